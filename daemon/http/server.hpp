#pragma once
// The HTTP listener (Beast on Asio coroutines). Beast stays inside server.cpp: this header is cheap to include.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/http/server_config.hpp"

namespace boost::asio {
class io_context;
}
namespace leadrelay::intake {
class Intake;
}
namespace leadrelay::store {
class IntakeLog;
}
namespace leadrelay::outbox {
class Backlog;
}

namespace leadrelay::http {

class Server {
 public:
  // With a backlog, leads are answered 503 while it is full (the outbox holds too much undelivered work).
  Server(boost::asio::io_context& ioc, const ServerConfig& config, std::shared_ptr<const intake::Intake> intake,
         store::IntakeLog& intake_log, const outbox::Backlog* backlog = nullptr);

  // Swaps the sources (a reload). Requests already being served finish with the intake they started with.
  void set_intake(std::shared_ptr<const intake::Intake> intake);
  // Reads the TLS certificate chain, key and client CA that the config names into a new context for the
  // connections that come next (start, and every SIGHUP so renewed certificates apply); false with a message, and
  // the previous context stays. Without tls_cert_file: nothing to do.
  bool reload_tls(std::string& error);
  // Answers GET /status (loopback clients only) with what `status` returns: a JSON object.
  void set_status(std::function<std::string()> status);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listen address; false with a message naming the address that failed.
  bool listen(std::string& error);
  // "127.0.0.1:43121" for each bound socket, with the port the kernel picked for port 0.
  std::vector<std::string> bound_addresses() const;
  void start();

  // Graceful stop: closes the listening sockets, closes keep-alive connections waiting for a request,
  // lets requests in flight finish, force-closes what is left after the configured grace, then calls
  // `done` on an I/O thread.
  void drain(std::function<void()> done);
  // Closes every connection now (a second SIGTERM).
  void abort();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace leadrelay::http
