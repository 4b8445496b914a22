#pragma once
// The admin listener's JSON answers: every error is {"error": code, "message": what is wrong}, with the field it is
// about when there is one.
#include <string>
#include <string_view>

#include "daemon/http/admin_server.hpp"

namespace leadrelay::api {

http::AdminResponse error(int status, std::string_view code, std::string_view message, std::string_view field = {});
http::AdminResponse json(int status, std::string body);
// 503 store_unavailable with why; 405 with the Allow header.
http::AdminResponse store_unavailable(const std::string& why);
http::AdminResponse method_not_allowed(std::string_view allow);

}  // namespace leadrelay::api
