#include "daemon/api/responses.hpp"

#include "daemon/util/strings.hpp"

namespace leadrelay::api {

http::AdminResponse error(int status, std::string_view code, std::string_view message, std::string_view field) {
  std::string body = R"({"error":)" + util::json_quote(code) + R"(,"message":)" + util::json_quote(message);
  if (!field.empty()) body += R"(,"field":)" + util::json_quote(field);
  return json(status, body + "}");
}

http::AdminResponse json(int status, std::string body) {
  http::AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http::AdminResponse store_unavailable(const std::string& why) {
  return error(503, "store_unavailable", "cannot read the store: " + why);
}

http::AdminResponse method_not_allowed(std::string_view allow) {
  auto r = error(405, "method_not_allowed", "this path takes " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

}  // namespace leadrelay::api
