#pragma once
// Internal to connectors/http: the one Beast response parser setup and conversion that the client (async) and
// parse_response (bytes) share. Includes Beast: keep it out of headers other rooms include.
#include <boost/beast/http.hpp>

#include "connectors/http/response.hpp"

namespace leadrelay::connectors::http::detail {

using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;
using ResponseParser = boost::beast::http::response_parser<boost::beast::http::string_body>;

inline void limit(ResponseParser& parser) { parser.body_limit(kMaxResponseBody); }

// Status, headers (names lower-cased) and body, moved out of Beast's message.
Response to_response(BeastResponse&& res);

}  // namespace leadrelay::connectors::http::detail
