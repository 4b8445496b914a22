#include "daemon/http/admin_server.hpp"

#include "daemon/util/asio.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <iostream>

#include "daemon/log/log.hpp"

namespace leadrelay::http {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
}  // namespace

struct AdminServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& ioc, AdminConfig config, Handler handler)
      : acceptor(asio::make_strand(ioc)), config(std::move(config)), handler(std::move(handler)) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      error_code ec;
      tcp::socket socket(acceptor.get_executor());
      co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(16384);
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(8192);
    error_code ec;
    stream.expires_after(std::chrono::seconds(5));
    co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const auto& req = parser.get();
    const auto target = req.target();
    const auto path = target.substr(0, target.find('?'));
    std::pair<int, std::string> answer{405, R"({"error":"method_not_allowed","message":"use GET, or POST to act"})"};
    if (req.method() == bhttp::verb::get || req.method() == bhttp::verb::post) {
      answer = handler(req.method_string(), target);
    }
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(answer.first), req.version()};
    res.set(bhttp::field::server, "leadrelay");
    res.set(bhttp::field::content_type,
            path == "/metrics" ? "text/plain; version=0.0.4; charset=utf-8" : "application/json");
    res.keep_alive(false);
    res.body() = std::move(answer.second);
    res.prepare_payload();
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  tcp::acceptor acceptor;
  AdminConfig config;
  Handler handler;
};

AdminServer::AdminServer(asio::io_context& ioc, const AdminConfig& config, Handler handler)
    : impl_(std::make_shared<Impl>(ioc, config, std::move(handler))) {}

AdminServer::~AdminServer() = default;

bool AdminServer::listen(std::string& error) {
  error_code ec;
  const auto ip = asio::ip::make_address(impl_->config.listen.host, ec);
  const tcp::endpoint endpoint(ip, impl_->config.listen.port);
  auto& a = impl_->acceptor;
  if (!ec) a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(64, ec);
  if (ec) {
    error = "cannot listen on " + impl_->config.listen.text + " (admin.listen): " + ec.message();
    return false;
  }
  return true;
}

std::string AdminServer::bound_address() const {
  error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  if (ec) return {};
  return ep.address().is_v6() ? "[" + ep.address().to_string() + "]:" + std::to_string(ep.port())
                              : ep.address().to_string() + ":" + std::to_string(ep.port());
}

void AdminServer::start() {
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), asio::detached);
}

void AdminServer::stop() {
  auto self = impl_;
  asio::post(self->acceptor.get_executor(), [self] {
    error_code ignored;
    self->acceptor.close(ignored);
  });
}

int admin_request(const std::string& address, std::string_view method, const std::string& target,
                  std::string_view command) {
  ListenAddress where;
  std::string problem;
  if (!parse_listen_address(address, where, problem)) {
    std::cerr << "leadrelay " << command << ": " << problem << "\n";
    return 64;
  }
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(tcp::endpoint(asio::ip::make_address(where.host, ec), where.port), ec);
  bhttp::response<bhttp::string_body> res;
  if (!ec) {
    bhttp::request<bhttp::empty_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, where.text);
    req.prepare_payload();
    bhttp::write(stream, req, ec);
  }
  beast::flat_buffer buffer;
  if (!ec) bhttp::read(stream, buffer, res, ec);
  if (ec) {
    std::cerr << "leadrelay " << command << ": cannot reach the admin listener at " << address << ": " << ec.message()
              << " (is leadrelay running, and is admin.listen this address?)\n";
    return 69;
  }
  std::cout << res.body() << "\n";
  return res.result_int() >= 200 && res.result_int() < 300 ? 0 : 1;
}

}  // namespace leadrelay::http
