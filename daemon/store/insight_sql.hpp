#pragma once
// Internal to daemon/store: the insight roll-ups of schemas 7 to 9, as SQL over a lifecycle row. insight_cells
// has one cell per combination of what the insights filter and group by (the month a lead was received in, its
// kind, offer, country, program, source, status, deal currency, close reason and time buckets), with counts and
// sums; the narrow roll-ups (kNarrowRollups) are the same without some of those; insight_acted counts answers
// (accepted, declined, won, lost) by the month they were given in and the month the lead was received in (the
// funnel's past leads). Triggers on lifecycle keep them all as leads are stored, changed and deleted (a routing
// batch adds its new leads itself, a statement per roll-up: insight_batch_sql); a filter they do not hold (the
// customer) is answered from the lifecycle rows with the same expressions.
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leadrelay::store::detail {

// The cell key's columns, in the order of its index: the tab's classifications and the range's months first, as
// every read gives both.
inline constexpr std::array<std::string_view, 13> kInsightKey = {
    "classification", "month",  "lead_type", "call_to_action", "country",       "offer",     "program",
    "lead_source",    "status", "currency",  "reason",         "accept_bucket", "win_bucket"};

// The narrower roll-ups of schema 8: the key without the three filters that multiply cells most (country, offer,
// program), plus the country in one and the offer and program in the other (a lead has an offer or a program,
// seldom both). A read whose filters and groups need none of the country or none of the offer and program reads
// the narrow table that has what it needs: a few thousand cells where insight_cells has a hundred thousand.
inline constexpr std::array<std::string_view, 10> kInsightBase = {
    "classification", "month",    "lead_type", "call_to_action", "lead_source",
    "status",         "currency", "reason",    "accept_bucket",  "win_bucket"};
struct NarrowRollup {
  std::string_view table;
  std::array<std::string_view, 2> columns;  // what it keeps of country, offer, program ("" for none)
};
// The smaller first: a read takes the first that holds what it needs.
inline constexpr std::array<NarrowRollup, 2> kNarrowRollups = {
    {{"insight_by_listing", {"offer", "program"}}, {"insight_by_country", {"country", ""}}}};
// A narrow roll-up's key: kInsightBase with its columns after the month (so their filters narrow the index's range).
std::vector<std::string_view> narrow_key(const NarrowRollup& r);

// The key's value of `column` (one of kInsightKey) for the lifecycle row `row` ("new", "old", "lc").
std::string insight_key_sql(std::string_view row, std::string_view column);
// Its measures: the deal value, the acceptance time and the time to win (0 when there is none).
std::array<std::string, 3> insight_measures(std::string_view row);
// The measures, each wrapped as `wrap` says ("-" negates, "SUM" sums), comma-separated.
std::string measures(std::string_view row, std::string_view wrap);
// The statements of schema 7: the tables, their triggers and the roll-up of the leads already stored.
std::string insight_schema_sql();
// Schema 8: the narrow roll-ups, filled from insight_cells, and the triggers again, now keeping all of them.
std::string insight_narrow_schema_sql();
// Schema 9: the triggers again, the row trigger standing aside while a routing batch adds its rows itself.
std::string insight_batch_trigger_sql();
// The statements that add the lifecycle rows whose seq is in the JSON array ?1 to every roll-up, a statement per
// roll-up (Transaction::record_routing: one upsert per cell instead of one per lead and roll-up).
std::vector<std::string> insight_batch_sql();

}  // namespace leadrelay::store::detail
