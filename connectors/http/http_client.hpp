#pragma once
// A small HTTP/1.1 client for sinks, on Beast with TLS (OpenSSL): certificate and host-name verification on by
// default, an optional CA file, TLS 1.2 or newer, one keep-alive connection reused across requests, and
// deadlines for connecting and for each request. Blocking (each sink has its own thread); Beast stays inside
// http_client.cpp.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "connectors/http/response.hpp"
#include "connectors/http/url.hpp"

namespace leadrelay::connectors::http {

struct Request {
  std::string method = "POST";
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct ClientOptions {
  bool tls_verify = true;
  std::filesystem::path ca_file;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  // Sends `request` to the URL's host; false with a message on a transport failure (cannot connect, TLS,
  // deadline passed, malformed answer). Any HTTP status is a success here: the caller judges it.
  bool send(const Url& url, const Request& request, Response& response, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leadrelay::connectors::http
