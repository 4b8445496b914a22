#pragma once
// The TLS server context both listeners use: TLS 1.2 and 1.3 only, forward-secret AEAD suites, the server's order,
// the certificate chain and key (and, with a client CA, required client certificates).
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace leadrelay::http {

// Null with `error` naming the file that could not be loaded.
std::shared_ptr<boost::asio::ssl::context> make_tls_server_context(const std::string& cert_file,
                                                                   const std::string& key_file,
                                                                   const std::string& client_ca_file,
                                                                   std::string& error);

}  // namespace leadrelay::http
