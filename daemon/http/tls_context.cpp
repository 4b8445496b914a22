#include "daemon/http/tls_context.hpp"

#include "daemon/util/asio.hpp"

#include <boost/asio/ssl.hpp>

namespace leadrelay::http {
namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> make_tls_server_context(const std::string& cert_file, const std::string& key_file,
                                                            const std::string& client_ca_file, std::string& error) {
  namespace ssl = asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  // TLS 1.2 and 1.3 only, forward-secret AEAD suites for 1.2 (1.3's are all modern), the server's order.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(context->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(context->native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    error = "cannot load the TLS certificate " + cert_file + ": " + ec.message();
    return nullptr;
  }
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(context->native_handle()) != 1) {
    error = "cannot load the TLS key " + key_file + " (or it does not match the certificate)";
    return nullptr;
  }
  if (!client_ca_file.empty()) {
    context->load_verify_file(client_ca_file, ec);
    if (ec) {
      error = "cannot load the client CA file " + client_ca_file + ": " + ec.message();
      return nullptr;
    }
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

}  // namespace leadrelay::http
