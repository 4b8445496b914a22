#include "daemon/api/responses.hpp"

#include "daemon/util/strings.hpp"

namespace leadrelay::api {

std::string json_string(std::string_view text) { return util::json_quote(text); }

http::AdminResponse error(int status, std::string_view code, std::string_view message, std::string_view field) {
  std::string body = R"({"error":)" + json_string(code) + R"(,"message":)" + json_string(message);
  if (!field.empty()) body += R"(,"field":)" + json_string(field);
  return json(status, body + "}");
}

http::AdminResponse json(int status, std::string body) {
  http::AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace leadrelay::api
