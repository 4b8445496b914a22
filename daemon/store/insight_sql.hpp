#pragma once
// Internal to daemon/store: the insight roll-up (schema 7's insight_cells), as SQL over a lifecycle row. One cell
// per combination of what the insights filter and group by (the month a lead was received in, its kind, offer,
// country, program, source, status, deal currency, close reason and time buckets), with counts and sums. Triggers
// on lifecycle keep it as leads are stored, changed and deleted; a filter the cells do not hold (the customer) is
// answered by grouping the lifecycle rows themselves with the same expressions.
#include <array>
#include <string>
#include <string_view>

namespace leadrelay::store::detail {

// The cell's key columns, in the order insight_key_sql gives their values.
inline constexpr const char* kInsightKey =
    "month, classification, lead_type, call_to_action, country, offer, program, lead_source, status, currency, "
    "reason, accept_bucket, win_bucket";

// The key's values of the lifecycle row `row` ("new", "old", "lc"), comma-separated.
std::string insight_key_sql(std::string_view row);
// Its measures: the deal value, the acceptance time and the time to win (0 when there is none).
std::array<std::string, 3> insight_measures(std::string_view row);
// The measures, each wrapped as `wrap` says ("-" negates, "SUM" sums), comma-separated.
std::string measures(std::string_view row, std::string_view wrap);
// The statements of schema 7: the table, its triggers and the roll-up of the leads already stored.
std::string insight_schema_sql();

}  // namespace leadrelay::store::detail
