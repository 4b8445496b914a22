#pragma once
// Internal to connectors/http: the one Beast response parser setup and conversion that the client (async) and
// parse_response (bytes) share. Includes Beast: keep it out of headers other rooms include.
#include <boost/beast/http.hpp>

#include "connectors/http/response.hpp"

namespace leadrelay::connectors::http::detail {

using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;
using ResponseParser = boost::beast::http::response_parser<boost::beast::http::string_body>;

// The body limit. Beast 1.74's response parser records a Content-Length past it as an error only after it has
// moved on to the body, and an eager parse (async_read of a whole message, or eager(true)) then goes on and
// reserves that length: a peer answering "Content-Length: 71322631598739000" with a few body bytes in the same
// packet made the client throw std::bad_alloc (found by fuzz_http_response). So the head is always read on its
// own (async_read_header, or a non-eager put), where the limit is an error that stops the read, and the body after.
inline void limit(ResponseParser& parser) { parser.body_limit(kMaxResponseBody); }

// Status, headers (names lower-cased) and body, moved out of Beast's message.
Response to_response(BeastResponse&& res);

}  // namespace leadrelay::connectors::http::detail
