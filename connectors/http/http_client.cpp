#include "connectors/http/http_client.hpp"

#include "daemon/util/asio.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>

#include "connectors/http/response_parser.hpp"

namespace leadrelay::connectors::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct Client::Impl {
  ClientOptions options;
  asio::io_context ioc;
  ssl::context tls{ssl::context::tls_client};
  std::string tls_error;
  // The kept-alive connection and where it goes.
  std::string connected_to;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  void close() {
    beast::error_code ignored;
    if (plain) plain->socket().close(ignored);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
    plain.reset();
    secure.reset();
    connected_to.clear();
    buffer.clear();
  }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  asio::awaitable<void> connect(const Url& url, beast::error_code& ec) {
    tcp::resolver resolver(ioc);
    auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (url.tls) {
      secure.emplace(ioc, tls);
      if (!SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str())) {
        ec = beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        co_return;
      }
      if (options.tls_verify) secure->set_verify_callback(ssl::host_name_verification(url.host));
    } else {
      plain.emplace(ioc);
    }
    lowest().expires_after(options.connect_timeout);
    co_await lowest().async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (url.tls) {
      co_await secure->async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  template <typename Stream>
  asio::awaitable<void> exchange(Stream& stream, bhttp::request<bhttp::string_body>& req,
                                 bhttp::response<bhttp::string_body>& res, beast::error_code& ec) {
    co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    detail::ResponseParser parser;
    detail::limit(parser);
    co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // a Content-Length past the limit is refused here, before any body is read
    if (!parser.is_done()) {
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) res = parser.release();
  }

  asio::awaitable<void> round_trip(const Url& url, bhttp::request<bhttp::string_body>& req,
                                   bhttp::response<bhttp::string_body>& res, beast::error_code& ec, bool& reused) {
    const auto key = std::string(url.tls ? "https://" : "http://") + url.host + ":" + url.port;
    reused = connected_to == key;
    if (!reused) {
      close();
      co_await connect(url, ec);
      if (ec) co_return;
      connected_to = key;
    }
    lowest().expires_after(options.request_timeout);
    if (secure) {
      co_await exchange(*secure, req, res, ec);
    } else {
      co_await exchange(*plain, req, res, ec);
    }
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& tls = impl_->tls;
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (impl_->options.tls_verify) {
    tls.set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    tls.set_default_verify_paths(ec);
    if (!impl_->options.ca_file.empty()) {
      tls.load_verify_file(impl_->options.ca_file.string(), ec);
      if (ec) impl_->tls_error = "cannot load CA file " + impl_->options.ca_file.string() + ": " + ec.message();
    }
  } else {
    tls.set_verify_mode(ssl::verify_none);
  }
}

Client::~Client() = default;

bool Client::send(const Url& url, const Request& request, Response& response, std::string& error) {
  if (!impl_->tls_error.empty()) {
    error = impl_->tls_error;
    return false;
  }
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), request.target, 11};
  req.set(bhttp::field::host, url.host);
  req.set(bhttp::field::user_agent, "leadrelay/" LEADRELAY_VERSION);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  req.prepare_payload();
  req.keep_alive(true);

  // A kept-alive connection the server has meanwhile closed fails at once: then once more on a new one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bhttp::response<bhttp::string_body> res;
    beast::error_code ec;
    bool reused = false;
    asio::co_spawn(impl_->ioc, impl_->round_trip(url, req, res, ec, reused), asio::detached);
    impl_->ioc.restart();
    impl_->ioc.run();
    if (ec) {
      impl_->close();
      if (reused && ec != beast::error::timeout) continue;
      error = ec == beast::error::timeout ? "no answer within the deadline" : ec.message();
      return false;
    }
    const bool keep_alive = res.keep_alive();
    response = detail::to_response(std::move(res));
    if (!keep_alive) impl_->close();
    return true;
  }
  error = "the connection closed";
  return false;
}

}  // namespace leadrelay::connectors::http
