#include "connectors/http/url.hpp"

namespace leadrelay::connectors::http {

bool Url::parse(const std::string& text, Url& out, std::string& error) {
  std::string rest;
  if (text.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = text.substr(8);
  } else if (text.rfind("http://", 0) == 0) {
    out.tls = false;
    rest = text.substr(7);
  } else {
    error = "'" + text + "' is not an http:// or https:// URL";
    return false;
  }
  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty()) {
    error = "'" + text + "' names no host";
    return false;
  }
  std::size_t colon = std::string::npos;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      error = "'" + text + "': unclosed [ in the host";
      return false;
    }
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') colon = close + 1;
  } else {
    colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
  }
  out.port = colon == std::string::npos ? (out.tls ? "443" : "80") : authority.substr(colon + 1);
  if (out.host.empty() || out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) {
    error = "'" + text + "': expected host[:port]";
    return false;
  }
  return true;
}

}  // namespace leadrelay::connectors::http
