#include "connectors/http/response.hpp"

#include "connectors/http/response_parser.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::connectors::http {

std::chrono::milliseconds retry_after(const Response& response, std::time_t now) {
  const auto it = response.headers.find("retry-after");
  if (it == response.headers.end()) return std::chrono::milliseconds(0);
  const auto v = util::trim(it->second);
  if (!v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos) {
    // Digits only: delta-seconds. Any number past the cap (however many digits) is the cap.
    unsigned long long seconds = 0;
    const auto cap = static_cast<unsigned long long>(kMaxRetryAfter.count());
    if (!util::parse_u64(v, seconds) || seconds > cap) seconds = cap;
    return std::chrono::seconds(static_cast<std::int64_t>(seconds));
  }
  std::tm tm{};
  const std::string text(v);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0' || tm.tm_year < 70 || tm.tm_year > 8099) return std::chrono::milliseconds(0);
  const auto at = timegm(&tm);  // years 1970..9999: within time_t, no overflow below
  if (at == static_cast<std::time_t>(-1) || at <= now) return std::chrono::milliseconds(0);
  const auto wait = static_cast<std::int64_t>(at) - static_cast<std::int64_t>(now);
  return std::chrono::seconds(std::min<std::int64_t>(wait, kMaxRetryAfter.count()));
}

namespace detail {
Response to_response(BeastResponse&& res) {
  Response out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = util::ascii_lower(c);
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(res.body());
  return out;
}
}  // namespace detail

bool parse_response(std::string_view bytes, Response& out, std::string& error) {
  namespace bhttp = boost::beast::http;
  detail::ResponseParser parser;
  detail::limit(parser);
  boost::beast::error_code ec;
  // Each round either consumes bytes or ends: the parser asks for more only when what is left is not enough.
  while (!parser.is_done()) {
    // The head alone first (see detail::limit): only then may the parser run on into the body.
    parser.eager(parser.is_header_done());
    const auto used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (ec == bhttp::error::need_more) ec = {};
    if (ec) break;
    if (used == 0 || bytes.empty()) {
      // The bytes end where the peer would have closed: that ends a body without a length, or is an error.
      if (!parser.got_some()) {
        ec = bhttp::error::end_of_stream;  // not a byte of an answer (and put_eof asks for some)
      } else if (!parser.is_done()) {
        parser.put_eof(ec);
      }
      break;
    }
  }
  if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
  if (ec) {
    error = ec.message();
    return false;
  }
  out = detail::to_response(parser.release());
  return true;
}

}  // namespace leadrelay::connectors::http
