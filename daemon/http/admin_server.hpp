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
  // Returns the status code and body for a GET of `path`.
  using Handler = std::function<std::pair<int, std::string>(std::string_view path)>;

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

// `leadrelay status`: GETs /status from an admin listener and prints it. Returns the exit code.
int print_status(const std::string& address);

}  // namespace leadrelay::http
