#include "daemon/http/admin_server.hpp"

#include "daemon/util/asio.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <iostream>
#include <thread>

#include "daemon/http/tls_context.hpp"
#include "daemon/log/log.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::http {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr std::uint64_t kBodyLimit = 1 << 20;
constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr auto kIdleTimeout = std::chrono::seconds(30);

std::string header(const bhttp::request<bhttp::string_body>& req, bhttp::field f) {
  const auto it = req.find(f);
  return it == req.end() ? std::string() : std::string(it->value());
}

AdminResponse error_response(int status, std::string_view code, std::string_view message) {
  AdminResponse r;
  r.status = status;
  r.body = std::string(R"({"error":")") + std::string(code) + R"(","message":")" + std::string(message) + "\"}";
  return r;
}

}  // namespace

// The I/O loop is the first member, so it goes last: coroutines still suspended in it when the threads have stopped
// are destroyed with it, and they hold only `this`, which they never use again.
struct AdminServer::Impl {
  Impl(AdminConfig c, int n, Handler h)
      : config(std::move(c)), threads(std::max(1, n)), handler(std::move(h)), acceptor(ioc) {}

  asio::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket(ioc);
      co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    if (!tls) {
      co_await serve(stream, stream);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
    auto& lowest = beast::get_lowest_layer(secure);
    error_code ec;
    lowest.expires_after(kReadTimeout);
    co_await secure.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    co_await serve(secure, lowest);
  }

  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream, beast::tcp_stream& tcp) {
    beast::flat_buffer buffer;
    for (bool first = true;; first = false) {
      error_code ec;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      tcp.expires_after(first ? kReadTimeout : kIdleTimeout);
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
        co_return;
      }
      // Counted from here until the answer is written, so that stop() lets it finish.
      ++busy;
      struct Done {
        std::atomic<int>& busy;
        ~Done() { --busy; }
      } done{busy};
      AdminResponse answer;
      bool keep_alive = false;
      unsigned version = 11;
      if (ec) {
        answer = ec == bhttp::error::body_limit ? error_response(413, "body_too_large", "the body is larger than 1 MiB")
                 : ec == bhttp::error::header_limit
                     ? error_response(431, "header_too_large", "the request head is larger than 16 KiB")
                     : error_response(400, "bad_request", "the request is not valid HTTP/1.1");
      } else {
        const auto& req = parser.get();
        version = req.version();
        keep_alive = req.keep_alive() && !stopping;
        AdminRequest request;
        request.method = std::string(req.method_string());
        const auto target = req.target();
        const auto q = target.find('?');
        request.path = std::string(target.substr(0, q));
        if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
        request.authorization = header(req, bhttp::field::authorization);
        request.if_match = header(req, bhttp::field::if_match);
        request.content_type = header(req, bhttp::field::content_type);
        request.cookie = header(req, bhttp::field::cookie);
        request.accept_encoding = header(req, bhttp::field::accept_encoding);
        if (const auto it = req.find("X-CSRF-Token"); it != req.end()) request.csrf_token = std::string(it->value());
        request.body = std::move(parser.release().body());
        try {
          answer = handler(request);
        } catch (const std::exception& e) {
          log::error("admin_request_failed", {log::safe("path", request.path), {"message", e.what()}});
          answer = error_response(500, "internal_error", "the request failed; see leadrelay's log");
        }
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(answer.status), version};
      res.set(bhttp::field::server, "leadrelay");
      res.set(bhttp::field::content_type, answer.content_type);
      res.set(bhttp::field::cache_control, "no-store");
      for (const auto& [name, value] : answer.headers) res.set(name, value);
      res.keep_alive(keep_alive);
      res.body() = std::move(answer.body);
      res.prepare_payload();
      tcp.expires_after(kReadTimeout);
      co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
    error_code ignored;
    tcp.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::io_context ioc;
  AdminConfig config;
  int threads;
  Handler handler;
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;
  std::vector<std::thread> workers;
  std::atomic<bool> stopping{false};
  std::atomic<int> busy{0};  // requests being handled or answered
};

AdminServer::AdminServer(const AdminConfig& config, int threads, Handler handler)
    : impl_(std::make_unique<Impl>(config, threads, std::move(handler))) {}

AdminServer::~AdminServer() { stop(); }

bool AdminServer::listen(std::string& error) {
  auto& c = impl_->config;
  if (!c.tls_cert_file.empty()) {
    impl_->tls = make_tls_server_context(c.tls_cert_file, c.tls_key_file, "", error);
    if (!impl_->tls) {
      error = "admin listener: " + error;
      return false;
    }
  }
  error_code ec;
  const auto ip = asio::ip::make_address(c.listen.host, ec);
  const tcp::endpoint endpoint(ip, c.listen.port);
  auto& a = impl_->acceptor;
  if (!ec) a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(64, ec);
  if (ec) {
    error = "cannot listen on " + c.listen.text + " (admin.listen): " + ec.message();
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
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  for (int i = 0; i < impl_->threads; ++i) {
    impl_->workers.emplace_back([impl = impl_.get()] {
      util::name_this_thread("lr-admin");
      impl->ioc.run();
    });
  }
}

void AdminServer::stop() {
  auto& impl = *impl_;
  if (impl.stopping.exchange(true)) return;
  asio::post(impl.ioc, [&impl] {
    error_code ignored;
    impl.acceptor.close(ignored);
  });
  // Requests being answered finish (for up to 5 s); idle keep-alive connections are closed with the loop.
  if (!impl.workers.empty()) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (impl.busy.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    impl.ioc.stop();
    for (auto& t : impl.workers) t.join();
    impl.workers.clear();
  }
}

AdminAnswer admin_call(const AdminCall& call) {
  AdminAnswer answer;
  ListenAddress where;
  if (!parse_listen_address(call.address, where, answer.error)) return answer;
  asio::io_context ioc;
  error_code ec;
  beast::tcp_stream tcp(ioc);
  tcp.expires_after(std::chrono::seconds(30));
  tcp.connect(tcp::endpoint(asio::ip::make_address(where.host, ec), where.port), ec);
  if (ec) {
    answer.error = "cannot reach the admin listener at " + call.address + ": " + ec.message() +
                   " (is leadrelay running, and is admin.listen this address?)";
    return answer;
  }
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), call.target, 11};
  req.set(bhttp::field::host, where.text);
  req.set(bhttp::field::user_agent, "leadrelay-cli/" LEADRELAY_VERSION);
  if (!call.token.empty()) req.set(bhttp::field::authorization, "Bearer " + call.token);
  if (!call.if_match.empty()) req.set(bhttp::field::if_match, call.if_match);
  if (!call.body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = call.body;
  }
  req.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(256ULL << 20);
  beast::flat_buffer buffer;
  const auto exchange = [&](auto& stream) {
    bhttp::write(stream, req, ec);
    if (!ec) bhttp::read(stream, buffer, parser, ec);
  };
  if (call.tls) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(call.ca_file, ec);
    if (ec) {
      answer.error = "cannot read " + call.ca_file + " to trust the admin listener's certificate: " + ec.message();
      return answer;
    }
    // The listener's own certificate is the trust anchor (pinned), whoever issued it.
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx.native_handle()), X509_V_FLAG_PARTIAL_CHAIN);
    beast::ssl_stream<beast::tcp_stream> secure(std::move(tcp), ctx);
    secure.set_verify_mode(asio::ssl::verify_peer);
    secure.handshake(asio::ssl::stream_base::client, ec);
    if (!ec) exchange(secure);
  } else {
    exchange(tcp);
  }
  if (ec) {
    answer.error = "the admin listener at " + call.address + " did not answer: " + ec.message();
    return answer;
  }
  auto res = parser.release();
  answer.status = static_cast<int>(res.result_int());
  for (const auto& f : res) answer.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  answer.body = std::move(res.body());
  return answer;
}

int admin_request(const AdminCall& call, std::string_view command) {
  const auto answer = admin_call(call);
  if (answer.status == 0) {
    std::cerr << "leadrelay " << command << ": " << answer.error << "\n";
    return 69;
  }
  std::cout << answer.body << "\n";
  return answer.status >= 200 && answer.status < 300 ? 0 : 1;
}

}  // namespace leadrelay::http
