#pragma once
// The admin listener: its own port (loopback by default) and its own I/O threads, so that slow work behind it (a
// lead change waits for its commit, an export reads 5,000 rows) never holds up intake. HTTP/1.1 with keep-alive,
// optionally TLS; each request is handed whole (head and body) to one handler that answers it whole. What is
// served (metrics, status, dead letters, the leads API) and who may ask is the handler's business (app, api).
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/http/server_config.hpp"

namespace leadrelay::http {

struct AdminRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE, ...
  std::string path;    // without the query
  std::string query;   // after '?', still percent-encoded
  std::string authorization, if_match, content_type;
  std::string cookie, accept_encoding, csrf_token;  // Cookie, Accept-Encoding, X-CSRF-Token (the console)
  std::string body;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // ETag, X-Total-Count, Allow, ...
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  // `threads` run the listener's own I/O loop (and the handler). TLS when config names a certificate.
  AdminServer(const AdminConfig& config, int threads, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  // Binds (and loads the TLS certificate); false with a message.
  bool listen(std::string& error);
  std::string bound_address() const;
  void start();
  // Stops accepting, lets requests in flight finish (up to a few seconds) and joins the threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request from the command line (`leadrelay status`, `dlq`, `leads`, `export`).
struct AdminCall {
  std::string address;  // host:port of the admin listener
  bool tls = false;     // HTTPS, trusting `ca_file` (the listener's own certificate, from the config)
  std::string ca_file;
  std::string token;    // bearer token; empty: none
  std::string method = "GET";
  std::string target;
  std::string body;     // JSON when not empty
  std::string if_match;
};
struct AdminAnswer {
  int status = 0;  // 0: nothing answered (`error` says why)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error;
};
AdminAnswer admin_call(const AdminCall& call);

// `leadrelay status` and `leadrelay dlq`: one call, its body printed. Returns the exit code (0 for a 2xx answer,
// 1 for another, 69 when nothing answers).
int admin_request(const AdminCall& call, std::string_view command);

}  // namespace leadrelay::http
