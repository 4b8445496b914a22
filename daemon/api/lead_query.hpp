#pragma once
// The leads API's inputs: query strings (the filters partners know from Partner Center's leads workspace, checked
// and turned into a store::LeadFilter) and change bodies; a bad one is named with what is wrong.
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/lifecycle/transitions.hpp"
#include "daemon/store/records.hpp"

namespace leadrelay::api {

struct QueryProblem {
  std::string field;    // the parameter
  std::string message;  // empty: no problem
};

// Parses `query` (still percent-encoded) into `filter`. `extra` names parameters the endpoint takes besides the
// filters ("format" for the export); their values go to `extra_values` in the same order.
QueryProblem parse_lead_query(std::string_view query, store::LeadFilter& filter, int max_limit,
                              const std::vector<std::string_view>& extra = {},
                              std::vector<std::string>* extra_values = nullptr);

// The JSON body of a change (accept, decline, ...) into `request`: only the fields `action` takes, each with its type;
// an empty body is no fields. The problem names the field.
QueryProblem parse_change_body(std::string_view body, lifecycle::Action action, lifecycle::ChangeRequest& request);

// The opaque cursor of the page after the one ending with `seq`, and back (0 when it is not one of ours).
std::string encode_cursor(std::int64_t seq);
std::int64_t decode_cursor(std::string_view cursor);

// "2026-11-30T12:00:00Z", "2026-11-30T12:00:00.250Z" or "2026-11-30" (midnight UTC) in Unix milliseconds; false
// when it is none of these.
bool parse_time(std::string_view text, std::int64_t& ms);

}  // namespace leadrelay::api
