#pragma once
// An http(s) URL split into what a client needs; plain C++, no I/O.
#include <string>

namespace leadrelay::connectors::http {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query, "/" when empty
  // http[s]://host[:port][/path]; false with a message otherwise.
  static bool parse(const std::string& text, Url& out, std::string& error);
};

}  // namespace leadrelay::connectors::http
