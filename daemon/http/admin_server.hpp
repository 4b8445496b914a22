#pragma once
// The admin listener: its own port (loopback by default) for operators and scrapers: GET /metrics (Prometheus
// text format), /status (JSON) and /healthz. One short request per connection.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/http/server_config.hpp"

namespace boost::asio {
class io_context;
}

namespace leadrelay::http {

class AdminServer {
 public:
  // Returns the status code and body for a request: its method ("GET", "POST") and target (path and query).
  using Handler = std::function<std::pair<int, std::string>(std::string_view method, std::string_view target)>;

  AdminServer(boost::asio::io_context& ioc, const AdminConfig& config, Handler handler);
  ~AdminServer();
  bool listen(std::string& error);
  std::string bound_address() const;
  void start();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// `leadrelay status` and `leadrelay dlq`: sends one request to an admin listener and prints the answer's body.
// Returns the exit code (0 for a 2xx answer, 1 for another, 69 when nothing answers).
int admin_request(const std::string& address, std::string_view method, const std::string& target,
                  std::string_view command);

}  // namespace leadrelay::http
