#include "daemon/http/server.hpp"

#include "daemon/http/tls_context.hpp"

#include "daemon/util/asio.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/ssl.hpp>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "daemon/http/certificate_fetch.hpp"
#include "daemon/intake/intake.hpp"
#include "daemon/store/intake_log.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/util/unique_function.hpp"

namespace leadrelay::http {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// The intake log's answers, handed to the I/O threads a write at a time. Its writer answers every lead of one write
// in a row; posting each answer on its own woke an I/O thread for each, and on a shared core that thread preempted
// the writer before it had answered the rest (4.3 times per write, measured with 64 connections), so the next write
// started later. Answers wait here until the last of a write (AppendResult::more false), then go in one handler per
// io_context. One queue for the process, as there is one intake log: whichever receiver a write's last answer is
// for, it sends on everything its write left here.
class AnswerQueue {
 public:
  static AnswerQueue& instance() {
    static AnswerQueue queue;
    return queue;
  }
  void push(asio::io_context& ioc, util::UniqueFunction<void()> answer, bool more) {
    std::vector<Answers> ready;
    {
      std::lock_guard lock(mutex_);
      auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const Answers& a) { return a.ioc == &ioc; });
      if (it == waiting_.end()) it = waiting_.insert(waiting_.end(), Answers{&ioc, {}});
      it->answers.push_back(std::move(answer));
      if (more) return;
      ready.swap(waiting_);
    }
    for (auto& a : ready) {
      asio::post(*a.ioc, [answers = std::move(a.answers)]() mutable {
        for (auto& answer : answers) answer();
      });
    }
  }

 private:
  struct Answers {
    asio::io_context* ioc;
    std::vector<util::UniqueFunction<void()>> answers;
  };
  std::mutex mutex_;
  std::vector<Answers> waiting_;  // by io_context: answers of the write being answered
};

// Completes when the intake log has made the entry durable (or refused it), on the awaiting coroutine's executor,
// which runs on `ioc`.
template <class Token>
auto async_append(store::IntakeLog& intake_log, asio::io_context& ioc, store::Entry entry, Token&& token) {
  return asio::async_initiate<Token, void(store::AppendResult)>(
      [&intake_log, &ioc](auto handler, store::Entry e) {
        // Tracked: the io_context must not run out of work while the coroutine waits on the writer thread.
        auto ex = asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
        intake_log.append(std::move(e), [h = std::move(handler), ex, &ioc](store::AppendResult result) mutable {
          const bool more = result.more;
          AnswerQueue::instance().push(
              ioc,
              [h = std::move(h), ex, result = std::move(result)]() mutable {
                // On the I/O thread already: resumes the coroutine here unless its strand is elsewhere.
                asio::dispatch(ex, [h = std::move(h), result = std::move(result)]() mutable { h(std::move(result)); });
              },
              more);
        });
      },
      token, std::move(entry));
}

// Runs the blocking `fn` on `pool` and completes with its result on the awaiting coroutine's executor.
template <class Result, class Fn, class Token>
auto async_offload(asio::thread_pool& pool, Fn fn, Token&& token) {
  return asio::async_initiate<Token, void(Result)>(
      [&pool](auto handler, Fn f) {
        auto ex = asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
        asio::post(pool, [h = std::move(handler), ex, f = std::move(f)]() mutable {
          Result result = f();
          asio::post(ex, [h = std::move(h), result = std::move(result)]() mutable { h(std::move(result)); });
        });
      },
      token, std::move(fn));
}

// The Date header's value, made once a second per thread (RFC 9110 section 6.6.1: an origin server with a clock
// sends one).
std::string_view http_date() {
  thread_local std::time_t made_for = 0;
  thread_local std::string value;
  const auto now = std::time(nullptr);
  if (now != made_for) {
    char text[64];
    std::tm parts{};
    gmtime_r(&now, &parts);
    value.assign(text, std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts));
    made_for = now;
  }
  return value;
}

Response make_response(unsigned status, std::string body, unsigned version, bool keep_alive) {
  Response res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::server, "leadrelay");
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::date, http_date());
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// A JSON answer written straight into `out` (reused by the connection): the head is the same each time but for the
// status, the length and the date, so it needs no field container and no serializer. For the answers that every
// accepted lead gets (202, and 200 for a redelivery).
void fast_json_answer(std::string& out, unsigned status, std::string_view body, unsigned version, bool keep_alive) {
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  out += "\r\nServer: leadrelay\r\nContent-Type: application/json\r\nDate: ";
  out += http_date();
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  if (version == 10 && keep_alive) out += "\r\nConnection: keep-alive";
  if (version != 10 && !keep_alive) out += "\r\nConnection: close";
  out += "\r\n\r\n";
  out += body;
}

Response error_response(const intake::Rejection& r, unsigned version, bool keep_alive) {
  return make_response(static_cast<unsigned>(r.status), intake::error_body(r), version, keep_alive);
}

// The peer was too slow or went away: there is nobody to answer.
bool peer_gone(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == bhttp::error::partial_message || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

intake::Rejection unavailable(store::AppendStatus status) {
  switch (status) {
    case store::AppendStatus::Overloaded:
      return {503, "overloaded", "too many leads are waiting to be stored; retry after the Retry-After delay"};
    case store::AppendStatus::Stopped:
      return {503, "shutting_down", "leadrelay is stopping; retry after the Retry-After delay"};
    default:
      return {503, "store_unavailable", "the lead could not be stored durably (is the disk full?); retry later"};
  }
}

// Feeds what `buffer` already holds to `parser` until it has the head (or, with `whole`, the whole message), as
// bhttp::async_read_header and bhttp::async_read do. Those post their completion through the io_context when no
// read was needed, which is every request that came in one segment; this is the same parse without that trip.
// True when the parser got there or failed (`ec`); false when more bytes must be read, and then the asynchronous
// call goes on from where this stopped.
bool parse_buffered(bhttp::request_parser<bhttp::string_body>& parser, beast::flat_buffer& buffer, bool whole,
                    error_code& ec) {
  if (whole) parser.eager(true);  // as bhttp::async_read sets it: go on into the body
  while (buffer.size() > 0) {
    const auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      return false;
    }
    if (ec || (whole ? parser.is_done() : parser.is_header_done())) return true;
    if (used == 0) return false;
  }
  return whole ? parser.is_done() : parser.is_header_done();
}

// Writes what of `bytes` the socket takes now, without waiting (the socket is non-blocking): a small answer is
// nearly always taken whole, and then it needs no write operation, no timer and no trip through the io_context.
// How many bytes went; `ec` only for a real error (the connection is gone), never for a full socket buffer.
std::size_t send_now(beast::tcp_stream& tcp, std::string_view bytes, error_code& ec) {
  const auto n = tcp.socket().write_some(asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  return ec ? 0 : n;
}

struct SessionState {
  asio::any_io_executor executor;
  beast::tcp_stream* stream = nullptr;  // touched only on `executor`; null once the session ended
  std::atomic<bool> idle{true};         // waiting for the first byte of the next request
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& ioc, const ServerConfig& config, std::shared_ptr<const intake::Intake> intake,
       store::IntakeLog& intake_log, const outbox::Backlog* backlog)
      : ioc(ioc), config(config), intake_(std::move(intake)), intake_log(intake_log), backlog(backlog), grace_timer(ioc) {
    if (config.client_rate_limit > 0) {
      client_limiter = std::make_unique<intake::RateLimiter>(config.client_rate_limit, config.client_rate_burst);
    }
  }

  // What a connection runs on. One I/O thread (the default): the io_context itself, as nothing is shared between
  // threads; with more, a strand per connection, so each connection's handlers never run at once.
  asio::any_io_executor executor() {
    if (config.io_threads <= 1) return ioc.get_executor();
    return asio::make_strand(ioc);
  }

  std::shared_ptr<const intake::Intake> intake() {
    std::lock_guard lock(mutex);
    return intake_;
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor);
  asio::awaitable<void> session(tcp::socket socket);
  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream, beast::tcp_stream& tcp, std::string client,
                              std::shared_ptr<SessionState> state);
  // The TLS context new connections use (null: plain HTTP), swapped whole by a reload.
  std::shared_ptr<asio::ssl::context> tls_context() {
    std::lock_guard lock(mutex);
    return tls;
  }
  std::shared_ptr<asio::ssl::context> tls;
  asio::awaitable<void> lingering_close(beast::tcp_stream& stream);
  // Partner Center sources: the key of the certificate `url` names, when it is allowed and accepted.
  asio::awaitable<CertificateLookup> signing_key(intake::SigningCertificates& certificates, std::string url);
  void cancel_sessions(bool idle_only);
  void session_ended(const std::shared_ptr<SessionState>& state);
  void finish_drain_if_done();

  asio::io_context& ioc;
  const ServerConfig config;
  std::shared_ptr<const intake::Intake> intake_;  // guarded by mutex; swapped by a reload
  std::function<std::string()> status;
  store::IntakeLog& intake_log;  // where leads are made durable before they are answered
  const outbox::Backlog* backlog;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  asio::steady_timer grace_timer;

  std::atomic<bool> draining{false};
  std::unique_ptr<intake::RateLimiter> client_limiter;  // null: no per-client limit
  std::mutex mutex;  // guards sessions, on_drained, intake_ and status
  std::unordered_set<std::shared_ptr<SessionState>> sessions;
  std::function<void()> on_drained;
  asio::thread_pool certificate_pool{1};  // downloads of signing certificates (rare, blocking)
};

asio::awaitable<CertificateLookup> Server::Impl::signing_key(intake::SigningCertificates& certificates,
                                                              std::string url) {
  using Verdict = intake::SigningCertificates::Verdict;
  CertificateLookup out;
  connectors::http::Url parsed;
  if (url.size() > 2048) url.resize(2048);
  if (!certificates.allowed(url, parsed, out.reason)) {
    out.verdict = Verdict::Refused;
  } else {
    out.verdict = certificates.find(url, log::now_unix_ms(), out.key, out.reason);
    if (out.verdict == Verdict::Unknown) {
      // A named local, not a temporary in the co_await expression: g++ 12 may destroy such temporaries twice.
      auto fetch = [&certificates, url, parsed] { return fetch_signing_certificate(certificates, url, parsed); };
      out = co_await async_offload<CertificateLookup>(certificate_pool, std::move(fetch), asio::use_awaitable);
    }
  }
  if (out.verdict == Verdict::Refused) {
    log::info("signing_certificate_refused", {log::safe("certificate_url", url.substr(0, 200)), {"reason", out.reason}});
  } else if (out.verdict == Verdict::Unreachable) {
    log::warn("signing_certificate_unavailable",
              {log::safe("certificate_url", url.substr(0, 200)), {"reason", out.reason}});
  }
  co_return out;
}

namespace {
void log_exception(std::string_view what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("coroutine_failed", {{"where", what}, {"message", ex.what()}});
  }
}
}  // namespace

Server::Server(asio::io_context& ioc, const ServerConfig& config, std::shared_ptr<const intake::Intake> intake,
               store::IntakeLog& intake_log, const outbox::Backlog* backlog)
    : impl_(std::make_shared<Impl>(ioc, config, std::move(intake), intake_log, backlog)) {}

bool Server::reload_tls(std::string& error) {
  const auto& c = impl_->config;
  if (c.tls_cert_file.empty()) return true;
  auto context = make_tls_server_context(c.tls_cert_file, c.tls_key_file, c.tls_client_ca_file, error);
  if (!context) return false;
  std::lock_guard lock(impl_->mutex);
  impl_->tls = std::move(context);
  return true;
}

void Server::set_intake(std::shared_ptr<const intake::Intake> intake) {
  std::lock_guard lock(impl_->mutex);
  impl_->intake_ = std::move(intake);
}

void Server::set_status(std::function<std::string()> status) {
  std::lock_guard lock(impl_->mutex);
  impl_->status = std::move(status);
}

Server::~Server() = default;

bool Server::listen(std::string& error) {
  for (const auto& address : impl_->config.listen) {
    error_code ec;
    const auto ip = asio::ip::make_address(address.host, ec);
    auto acceptor = std::make_unique<tcp::acceptor>(impl_->executor());
    const tcp::endpoint endpoint(ip, address.port);
    if (!ec) acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "cannot listen on " + address.text + ": " + ec.message() +
              (ec == asio::error::address_in_use ? " (another process uses this port; change server.listen)" : "");
      return false;
    }
    impl_->acceptors.push_back(std::move(acceptor));
  }
  return true;
}

std::vector<std::string> Server::bound_addresses() const {
  std::vector<std::string> out;
  for (const auto& a : impl_->acceptors) {
    error_code ec;
    const auto ep = a->local_endpoint(ec);
    if (ec) continue;
    out.push_back(ep.address().is_v6() ? "[" + ep.address().to_string() + "]:" + std::to_string(ep.port())
                                       : ep.address().to_string() + ":" + std::to_string(ep.port()));
  }
  return out;
}

void Server::start() {
  for (auto& a : impl_->acceptors) {
    asio::co_spawn(a->get_executor(), impl_->accept_loop(*a),
                   [](std::exception_ptr e) { log_exception("accept", e); });
  }
}

void Server::drain(std::function<void()> done) {
  auto self = impl_;
  asio::dispatch(self->ioc, [self, done = std::move(done)]() mutable {
    if (self->draining.exchange(true)) return;
    for (auto& a : self->acceptors) {
      asio::post(a->get_executor(), [a = a.get()] {
        error_code ignored;
        a->close(ignored);
      });
    }
    {
      std::lock_guard lock(self->mutex);
      self->on_drained = std::move(done);
    }
    self->grace_timer.expires_after(self->config.shutdown_grace);
    self->grace_timer.async_wait([self](error_code ec) {
      if (ec) return;
      std::size_t left = 0;
      {
        std::lock_guard lock(self->mutex);
        left = self->sessions.size();
      }
      if (left > 0) log::warn("shutdown_grace_expired", {{"connections_closed", static_cast<std::int64_t>(left)}});
      self->cancel_sessions(false);
    });
    self->cancel_sessions(true);
    self->finish_drain_if_done();
  });
}

void Server::abort() {
  auto self = impl_;
  asio::dispatch(self->ioc, [self] { self->cancel_sessions(false); });
}

void Server::Impl::cancel_sessions(bool idle_only) {
  std::lock_guard lock(mutex);
  for (const auto& state : sessions) {
    asio::post(state->executor, [state, idle_only] {
      if (state->stream == nullptr) return;
      if (idle_only) {
        // Bytes already waiting mean a request has arrived that the session has not read yet: not idle.
        error_code ec;
        if (!state->idle.load() || state->stream->socket().available(ec) > 0) return;
      }
      state->stream->cancel();
    });
  }
}

void Server::Impl::session_ended(const std::shared_ptr<SessionState>& state) {
  {
    std::lock_guard lock(mutex);
    sessions.erase(state);
  }
  finish_drain_if_done();
}

void Server::Impl::finish_drain_if_done() {
  std::function<void()> done;
  {
    std::lock_guard lock(mutex);
    if (!draining.load() || !sessions.empty() || !on_drained) return;
    done = std::move(on_drained);
    on_drained = nullptr;
  }
  grace_timer.cancel();
  asio::post(ioc, std::move(done));
}

asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor& acceptor) {
  auto self = shared_from_this();
  for (;;) {
    error_code ec;
    tcp::socket socket(executor());
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (draining.load() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and the like: say so, pause briefly instead of spinning, keep accepting.
      log::warn("accept_failed", {{"message", ec.message()}});
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::size_t open = 0;
    {
      std::lock_guard lock(mutex);
      open = sessions.size();
    }
    if (open >= config.max_connections) {
      log::warn("connection_refused", {{"reason", "server.max_connections reached"},
                                       {"max_connections", static_cast<std::int64_t>(config.max_connections)}});
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket)), [](std::exception_ptr e) { log_exception("session", e); });
  }
}

asio::awaitable<void> Server::Impl::lingering_close(beast::tcp_stream& stream) {
  // After an error answer the client may still be sending its request. Closing with unread data makes
  // the kernel send RST, and the client may lose our answer; so stop sending, then read and discard for
  // a short while (bounded in time and bytes), as nginx's lingering_close does.
  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::min<std::chrono::milliseconds>(config.body_timeout, std::chrono::seconds(2)));
  std::array<char, 16384> discard;
  std::size_t total = 0;
  while (!ec && total < 64 * 1024 * 1024) {
    total += co_await stream.async_read_some(asio::buffer(discard), asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Server::Impl::session(tcp::socket socket) {
  auto self = shared_from_this();
  const auto client = [&] {
    error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string();
  }();
  beast::tcp_stream stream(std::move(socket));
  auto state = std::make_shared<SessionState>();
  state->executor = stream.get_executor();
  state->stream = &stream;
  {
    std::lock_guard lock(mutex);
    sessions.insert(state);
  }
  struct Unregister {
    Impl* impl;
    std::shared_ptr<SessionState> state;
    ~Unregister() {
      state->stream = nullptr;
      impl->session_ended(state);
    }
  } unregister{this, state};

  const auto tls = tls_context();
  if (!tls) {
    error_code ignored;
    stream.socket().non_blocking(true, ignored);  // for send_now: what the socket cannot take waits in async_write
    co_await serve(stream, stream, client, state);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
  auto& tcp = beast::get_lowest_layer(secure);
  state->stream = &tcp;
  error_code ec;
  tcp.expires_after(config.header_timeout);
  co_await secure.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    log::debug("tls_handshake_failed", {log::safe("client", client), {"message", ec.message()}});
    tcp.socket().close(ec);
    co_return;
  }
  co_await serve(secure, tcp, client, state);
}

template <typename Stream>
asio::awaitable<void> Server::Impl::serve(Stream& stream, beast::tcp_stream& tcp, std::string client,
                                          std::shared_ptr<SessionState> state) {
  beast::flat_buffer buffer(config.max_header_bytes + config.max_body_bytes + 65536);
  std::string answer;  // the fast answers' bytes, reused from request to request
  bool first = true;
  bool linger = false;
  error_code ec;
  for (;;) {
    // Wait for the next request's first byte: on a fresh connection within header_timeout, on a
    // keep-alive one within idle_timeout. Only here may a drain close the connection.
    state->idle = true;
    if (draining.load()) break;
    if (buffer.size() == 0) {
      tcp.expires_after(first ? config.header_timeout : config.idle_timeout);
      const auto n = co_await stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;  // closed by the client, idle timeout, or drain
      buffer.commit(n);
    }
    state->idle = false;
    first = false;

    // A fresh parser for every message; the whole head must arrive within header_timeout.
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
    parser.body_limit(config.max_body_bytes);
    if (!parse_buffered(parser, buffer, false, ec)) {
      tcp.expires_after(config.header_timeout);
      co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      intake::Rejection r;
      if (ec == bhttp::error::header_limit) {
        r = {431, "header_too_large",
             "the request head is larger than " + std::to_string(config.max_header_bytes) + " bytes"};
      } else if (ec == bhttp::error::body_limit) {
        r = {413, "body_too_large", "the body is larger than " + std::to_string(config.max_body_bytes) + " bytes"};
      } else if (peer_gone(ec)) {
        break;  // too slow, or gone: nobody to answer
      } else {
        r = {400, "bad_request", "malformed HTTP request: " + ec.message()};
      }
      auto res = error_response(r, 11, false);
      tcp.expires_after(config.write_timeout);
      co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      linger = !ec;
      break;
    }

    const auto request_started = std::chrono::steady_clock::now();
    auto& metrics = metrics::Metrics::get();
    const auto& head_msg = parser.get();
    const intake::RequestHead head{head_msg.method_string(), head_msg.target(),
                                   head_msg[bhttp::field::content_type], head_msg[bhttp::field::authorization]};
    // This request keeps the intake it started with, even if a reload swaps it meanwhile.
    const auto intake = this->intake();
    auto decision = intake->on_head(head);
    // Rate limits, before the body is read: per client address, then per source.
    std::string retry_after;
    if (decision.route == intake::Route::Lead) {
      std::chrono::milliseconds wait{0};
      const auto now = intake::RateLimiter::Clock::now();
      const bool client_ok = !client_limiter || client_limiter->allow(client, now, wait);
      const bool source_ok = client_ok && (!decision.source->limiter || decision.source->limiter->allow({}, now, wait));
      if (!client_ok || !source_ok) {
        metrics.lead_rejected(decision.source->config.name, "rate_limited");
        decision.route = intake::Route::Reject;
        decision.rejection = {429, "rate_limited",
                              std::string(client_ok ? "this source takes" : "this client may send") +
                                  " no more leads right now; retry after the Retry-After delay"};
        retry_after = std::to_string(std::max<std::int64_t>(1, (wait.count() + 999) / 1000));
      }
    }
    const unsigned version = head_msg.version();
    bool keep_alive = head_msg.keep_alive();
    Response res;
    bool fast = false;  // the answer is in `answer`, not in `res`

    std::function<std::string()> status_fn;
    if (head.method == "GET" && head.target == "/status") {
      std::lock_guard lock(mutex);
      status_fn = status;
    }
    if (status_fn) {
      // Reload results and backlog: for the admin on this machine, not for the internet.
      error_code ignored;
      const bool local = tcp.socket().remote_endpoint(ignored).address().is_loopback();
      res = local ? make_response(200, status_fn(), version, keep_alive)
                  : error_response({403, "forbidden", "/status answers loopback clients only"}, version, keep_alive);
      if (!parser.is_done()) {
        res.keep_alive(false);
        linger = true;
      }
    } else if (decision.route == intake::Route::Reject) {
      res = error_response(decision.rejection, version, keep_alive);
      if (!decision.allow.empty()) res.set(bhttp::field::allow, decision.allow);
      if (!retry_after.empty()) res.set(bhttp::field::retry_after, retry_after);
      if (!parser.is_done()) {
        // The body was never read: the connection cannot carry another request.
        res.keep_alive(false);
        linger = true;
      }
      if (decision.rejection.status != 404 && decision.rejection.status != 429) {
        metrics.lead_rejected("unknown", decision.rejection.code);
        log::info("request_rejected", {{"status", decision.rejection.status},
                                       {"error", decision.rejection.code},
                                       log::safe("client", client)});
      }
    } else {
      if (decision.route == intake::Route::Lead && bhttp::token_list(head_msg[bhttp::field::expect]).exists("100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        tcp.expires_after(config.write_timeout);
        co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      if (!parser.is_done()) {
        if (!parse_buffered(parser, buffer, true, ec)) {
          tcp.expires_after(config.body_timeout);
          co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        }
        if (ec && !peer_gone(ec)) {
          // Too large, or malformed (a chunk size that is no hex number or past 64 bits, a bad chunk extension):
          // the sender is told, then the connection closes, since the stream's framing is lost.
          const auto r = ec == bhttp::error::body_limit
                             ? intake::Rejection{413, "body_too_large",
                                                 "the body is larger than " + std::to_string(config.max_body_bytes) +
                                                     " bytes"}
                             : intake::Rejection{400, "bad_request", "malformed HTTP body: " + ec.message()};
          res = error_response(r, version, false);
          tcp.expires_after(config.write_timeout);
          co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
          linger = !ec;
          break;
        }
        if (ec) break;  // too slow or gone mid-body: the sender saw no answer and may retry
      }

      if (decision.route == intake::Route::Healthz) {
        res = make_response(200, R"({"status":"ok"})", version, keep_alive);
      } else if (decision.route == intake::Route::Readyz) {
        const bool store_ok = intake_log.healthy();
        const bool ready = store_ok && !draining.load();
        res = make_response(ready ? 200 : 503,
                            ready      ? R"({"status":"ready"})"
                            : store_ok ? R"({"status":"draining"})"
                                       : R"({"status":"store_unavailable"})",
                            version, keep_alive);
      } else {
        const auto now = log::now_unix_ms();
        model::Lead lead;
        intake::Rejection rejection;
        std::string replay_key;
        auto& body = parser.get().body();
        const auto& source_config = decision.source->config;
        metrics.lead_received(source_config.name);
        const auto idempotency = source_config.idempotency_header.empty()
                                     ? std::string_view{}
                                     : parser.get()[source_config.idempotency_header];
        intake::SignatureHeaders signature{parser.get()["webhook-id"], parser.get()["webhook-timestamp"],
                                           parser.get()["webhook-signature"]};
        CertificateLookup certificate;
        if (auto* certificates = decision.source->auth.certificates(); certificates != nullptr) {
          signature.signature =
              intake::presented_signature(head_msg[bhttp::field::authorization], parser.get()["x-ms-signature"]);
          signature.algorithm = parser.get()["x-ms-signature-algorithm"];
          // No signature, no download: the request is refused below either way.
          if (!signature.signature.empty()) {
            std::string url(parser.get()["x-ms-certificate-url"]);
            certificate = co_await signing_key(*certificates, std::move(url));
          }
          signature.key = certificate.key.get();
        }
        if (backlog != nullptr && backlog->full()) {
          // Undelivered work fills the outbox budget: refuse before storing, never store and then drop.
          const intake::Rejection r{503, "backlog_full",
                                    "too many leads are waiting for delivery (is Kafka down?); retry after the "
                                    "Retry-After delay"};
          res = error_response(r, version, keep_alive);
          res.set(bhttp::field::retry_after, "5");
          metrics.lead_rejected(source_config.name, r.code);
          log::warn("lead_not_stored", {log::safe("source", decision.source->config.name), {"error", r.code},
                                        {"backlog", backlog->count()}});
        } else if (certificate.verdict == intake::SigningCertificates::Verdict::Unreachable) {
          // The sender may well be genuine: ask it to come back rather than refuse the lead for good.
          const intake::Rejection r{503, "certificate_unavailable",
                                    "the signing certificate could not be downloaded; retry after the Retry-After delay"};
          res = error_response(r, version, keep_alive);
          res.set(bhttp::field::retry_after, "10");
          metrics.lead_rejected(source_config.name, r.code);
        } else if (!intake->on_body(*decision.source, body, now, lead, replay_key, rejection, idempotency,
                                    signature)) {
          res = error_response(rejection, version, keep_alive);
          metrics.lead_rejected(source_config.name, rejection.code);
          log::info("lead_rejected", {log::safe("source", decision.source->config.name),
                                      {"status", rejection.status},
                                      {"error", rejection.code},
                                      log::safe("field", rejection.field),
                                      log::safe("client", client)});
        } else {
          // The body and the format move into the intake log: they are not needed here again.
          store::Entry entry{lead.lead_id, source_config.name, now, std::move(body), std::move(lead.format),
                               std::move(replay_key), now + source_config.replay_window.count()};
          const auto result = co_await async_append(intake_log, ioc, std::move(entry), asio::use_awaitable);
          const auto status = result.status;
          if (status == store::AppendStatus::Committed) {
            fast_json_answer(answer, 202, intake::accepted_body(lead.lead_id), version, keep_alive && !draining.load());
            fast = true;
            metrics.lead_accepted(source_config.name);
            log::debug("lead_accepted",
                       {log::safe("lead_id", lead.lead_id), log::safe("source", decision.source->config.name)});
          } else if (status == store::AppendStatus::Duplicate) {
            // A redelivery: the first delivery's lead stands; nothing is stored or published again.
            fast_json_answer(answer, 200, intake::duplicate_body(result.lead_id), version, keep_alive && !draining.load());
            fast = true;
            metrics.lead_redelivered(source_config.name);
            log::info("lead_redelivered", {log::safe("lead_id", result.lead_id),
                                           log::safe("source", source_config.name)});
          } else {
            const auto r = unavailable(status);
            res = error_response(r, version, keep_alive);
            res.set(bhttp::field::retry_after, status == store::AppendStatus::Failed ? "5" : "1");
            metrics.lead_rejected(source_config.name, r.code);
            log::warn("lead_not_stored", {log::safe("source", decision.source->config.name), {"error", r.code}});
          }
        }
      }
    }

    if (fast) {
      keep_alive = keep_alive && !draining.load();
      std::size_t sent = 0;
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) sent = send_now(tcp, answer, ec);
      if (!ec && sent < answer.size()) {
        tcp.expires_after(config.write_timeout);
        co_await asio::async_write(stream, asio::buffer(answer) + sent, asio::redirect_error(asio::use_awaitable, ec));
      }
    } else {
      tcp.expires_after(config.write_timeout);
      if (draining.load()) res.keep_alive(false);
      keep_alive = res.keep_alive();
      co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    }
    metrics.http_request(std::chrono::duration<double>(std::chrono::steady_clock::now() - request_started).count());
    if (ec || !keep_alive) break;
  }

  if (linger) {
    co_await lingering_close(tcp);
  } else {
    tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
  tcp.socket().close(ec);
}

}  // namespace leadrelay::http
