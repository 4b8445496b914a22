#include "daemon/util/digest.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <memory>

#include "daemon/util/strings.hpp"

namespace leadrelay::util {

namespace {
// SHA256() looks the algorithm up in OpenSSL 3's provider store on every call (a lock, a property query, reference
// counts) and makes a new context: 309 ns for a 48-byte secret on this kind of machine, against 83 ns with the
// algorithm fetched once and a context kept per thread (tests/bench/pipeline_bench). Intake hashes each request's
// secret.
const EVP_MD* sha256_algorithm() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
struct ContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
}  // namespace

Sha256 sha256(std::string_view data) {
  Sha256 out{};
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextFree> ctx(EVP_MD_CTX_new());
  unsigned int n = 0;
  const auto* md = sha256_algorithm();
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out.data(), &n) != 1) {
    // OpenSSL could not make or run the context (out of memory): the one-shot call, as before.
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  }
  return out;
}

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool base64_decode(std::string_view text, std::string& bytes) {
  text = trim(text);
  if (text.size() % 4 != 0) return false;
  bytes.assign(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  bytes.resize(static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts padding as zero bytes: drop what the '=' stood for.
  for (auto it = text.rbegin(); it != text.rend() && *it == '=' && !bytes.empty(); ++it) bytes.pop_back();
  return true;
}

}  // namespace leadrelay::util
