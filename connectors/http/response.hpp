#pragma once
// An HTTP answer from a service leadrelay calls (CRMs, webhooks, certificate hosts, Partner Center), and what is
// read from its bytes. Plain C++ here; the parser is Beast's, behind response.cpp, with the client's limits.
#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <string_view>

namespace leadrelay::connectors::http {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// The most an answer's body may be; a longer one is a transport failure ("body limit exceeded").
inline constexpr std::size_t kMaxResponseBody = 4 << 20;
// The longest pause a Retry-After may ask for: a larger value (or an HTTP date further away) is read as this.
inline constexpr std::chrono::seconds kMaxRetryAfter{24 * 3600};

// The pause a Retry-After header asks for (delta-seconds or an HTTP date, RFC 9110 §10.2.3), at most
// kMaxRetryAfter; 0 when absent, in the past or unreadable. `now` is Unix seconds.
std::chrono::milliseconds retry_after(const Response& response, std::time_t now = std::time(nullptr));

// Reads one whole answer from `bytes` (status line, headers, a Content-Length or chunked body) as the client does;
// false with the parser's message when it is malformed, incomplete or too large.
bool parse_response(std::string_view bytes, Response& out, std::string& error);

}  // namespace leadrelay::connectors::http
