#pragma once
// Why intake refused a request: the HTTP status and the JSON error body
// {"error": code, "message": what to fix, "field": json path when one applies}.
#include <string>

namespace leadrelay::intake {

struct Rejection {
  int status = 400;
  std::string code;
  std::string message;
  std::string field{};
};

// The JSON error body for a rejection.
std::string error_body(const Rejection& r);

}  // namespace leadrelay::intake
