#include "daemon/intake/source_config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "connectors/source_formats.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::intake {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kSourceKeys[] = {
    {"name", KeyType::String, "", "a short name for the source, used in logs, metrics and the stored lead", true},
    {"path", KeyType::String, "", "the URL path the sender posts to, such as /leads/marketplace", true},
    {"format", KeyType::String, "", "the body's format, ms-marketplace (marketplace leads) or pc-referral (Partner Center referral events; needs the partner_center section)", true},
    {"auth", KeyType::Section, "", "how a sender proves it may post here", true},
    {"rate_limit", KeyType::Integer, "0",
     "requests per second this source takes at most on average (token bucket); more get 429 with Retry-After; 0: "
     "no limit", false, 0, 1000000},
    {"rate_burst", KeyType::Integer, "0", "requests in a burst above rate_limit (default: twice the rate)", false, 0,
     1000000},
    {"replay_window", KeyType::Duration, "24h",
     "a delivery identical to one accepted within this window is answered 200 with the first lead's id and not "
     "stored or published again; 0s turns redelivery detection off",
     false, 0, 365LL * 86400000},
    {"idempotency_header", KeyType::String, "",
     "judge redeliveries by this request header (e.g. Idempotency-Key) instead of by the body's content"},
    {"idempotency_json_pointer", KeyType::String, "",
     "judge redeliveries by the value at this JSON Pointer in the body (e.g. /id) instead of the whole body"},
};

constexpr KeySpec kAuthKeys[] = {
    {"type", KeyType::Enum, "query_secret",
     "query_secret: the secret is a query parameter of the URL (what the marketplace can send); bearer: an "
     "'Authorization: Bearer <secret>' header; hmac: a signed body (webhook-id, webhook-timestamp, "
     "webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>, as leadrelay's webhook sink sends); "
     "partner_center: Partner Center's RSA-SHA256 signature of the body (Authorization: Signature, "
     "X-MS-Certificate-Url), checked with a certificate fetched only from certificate_hosts; none: anyone may "
     "post (only behind a proxy that authenticates)",
     false, 0, 0, "query_secret|bearer|hmac|partner_center|none"},
    {"param", KeyType::String, "code", "query_secret: the name of the query parameter that carries the secret"},
    {"secret_file", KeyType::String, "",
     "file holding the secret (one per line; several while rotating); relative to the config file's folder"},
    {"secret_env", KeyType::String, "", "environment variable holding the secret (several separated by commas)"},
    {"tolerance", KeyType::Duration, "5m", "hmac: how far the signed webhook-timestamp may be from now (replays)",
     false, 1000, 3600000},
    {"certificate_hosts", KeyType::StringList, "3psostorageacct.blob.core.windows.net",
     "partner_center: the only hosts (host, or host:port for a port other than 443) signing certificates are "
     "downloaded from, over https; a request naming any other URL is refused without a download"},
    {"certificate_subject", KeyType::String, "microsoft.com",
     "partner_center: the signing certificate's common name is this or a subdomain of it"},
    {"certificate_issuer", KeyType::String, "Microsoft",
     "partner_center: the signing certificate's issuer (organisation or common name) contains this"},
    {"ca_file", KeyType::String, "",
     "partner_center: PEM file of CA certificates (and intermediates) trusted besides the system's, for the "
     "signing certificate's chain and the download's TLS"},
    {"certificate_cache", KeyType::Duration, "24h",
     "partner_center: how long an accepted certificate is used before it is downloaded again (never past its "
     "expiry)",
     false, 60000, 30LL * 86400000},
};

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

bool valid_path(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return false;
  for (char c : path) {
    if (c <= ' ' || c == '?' || c == '#' || c == '%' || static_cast<unsigned char>(c) >= 0x7f) return false;
  }
  return true;
}

void check_secrets(config::MapReader& r, std::string_view key, const std::vector<std::string>& secrets,
                   std::string_view where) {
  if (secrets.empty()) {
    r.error(key, std::string(where) + " holds no secret; put one in it, e.g. the output of: openssl rand -hex 24");
    return;
  }
  for (const auto& s : secrets) {
    if (s.size() < kMinSecretLength) {
      r.error(key, "a secret in " + std::string(where) + " is " + std::to_string(s.size()) +
                       " characters long; use at least " + std::to_string(kMinSecretLength) +
                       " (e.g. the output of: openssl rand -hex 24)");
      return;
    }
  }
}

AuthConfig parse_auth(config::MapReader& r, const std::filesystem::path& base_dir) {
  AuthConfig a;
  const auto type = r.enumeration("type");
  a.type = type == "bearer" ? AuthType::Bearer
           : type == "hmac" ? AuthType::Hmac
           : type == "partner_center" ? AuthType::PartnerCenter
           : type == "none" ? AuthType::None
                            : AuthType::QuerySecret;
  a.tolerance = r.duration("tolerance");
  a.param = r.string("param");
  const auto file = r.string("secret_file");
  const auto env = r.string("secret_env");
  for (std::string_view key : {"certificate_hosts", "certificate_subject", "certificate_issuer", "ca_file",
                               "certificate_cache"}) {
    if (a.type != AuthType::PartnerCenter && r.has(key)) r.error(key, "only type 'partner_center' takes this key");
  }
  if (a.type == AuthType::PartnerCenter) {
    if (!file.empty() || !env.empty()) {
      r.error("type", "type 'partner_center' takes no secret: the signature is checked with Microsoft's certificate");
    }
    auto& c = a.certificates;
    c.hosts = r.string_list("certificate_hosts");
    c.subject = r.string("certificate_subject");
    c.issuer = r.string("certificate_issuer");
    c.cache_for = r.duration("certificate_cache");
    if (c.hosts.empty()) r.error("certificate_hosts", "name at least one host, e.g. 3psostorageacct.blob.core.windows.net");
    for (const auto& h : c.hosts) {
      if (h.empty() || h.find_first_of("/@?# ") != std::string::npos) {
        r.error("certificate_hosts", "'" + h + "' is not a host or host:port");
      }
    }
    if (c.subject.empty()) r.error("certificate_subject", "cannot be empty");
    if (c.issuer.empty()) r.error("certificate_issuer", "cannot be empty");
    if (const auto ca = r.string("ca_file"); !ca.empty()) {
      c.ca_file = std::filesystem::path(ca).is_relative() ? base_dir / ca : std::filesystem::path(ca);
      std::error_code ec;
      if (!std::filesystem::is_regular_file(c.ca_file, ec)) {
        r.error("ca_file", "cannot read '" + c.ca_file.string() + "'; give a PEM file of CA certificates");
      }
    }
    return a;
  }
  if (a.type == AuthType::None) {
    if (!file.empty() || !env.empty()) r.error("type", "type 'none' takes no secret; remove secret_file/secret_env");
    return a;
  }
  if (a.type == AuthType::QuerySecret && a.param.empty()) r.error("param", "needs the query parameter's name");
  if (file.empty() == env.empty()) {
    r.error(file.empty() ? "type" : "secret_env",
            "give exactly one of secret_file or secret_env; secrets are never written in the config itself");
    return a;
  }
  if (!file.empty()) {
    std::filesystem::path p(file);
    if (p.is_relative()) p = base_dir / p;
    a.secret_origin = "file " + p.string();
    std::string problem;
    if (!read_secret_file(p, a.secrets, problem)) {
      r.error("secret_file", problem);
      return a;
    }
    check_secrets(r, "secret_file", a.secrets, "secret file '" + p.string() + "'");
  } else {
    a.secret_origin = "env " + env;
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) {
      r.error("secret_env", "environment variable " + env + " is not set; export it before starting leadrelay");
      return a;
    }
    a.secrets = split_secret_list(value);
    check_secrets(r, "secret_env", a.secrets, "environment variable " + env);
  }
  return a;
}

}  // namespace

std::span<const KeySpec> source_keys() { return kSourceKeys; }
std::span<const KeySpec> auth_keys() { return kAuthKeys; }

std::vector<std::string> split_secret_list(std::string_view value) { return util::split_list(value); }

bool read_secret_file(const std::filesystem::path& file, std::vector<std::string>& secrets, std::string& error) {
  std::ifstream in(file);
  if (!in) {
    error = "cannot read secret file '" + file.string() + "': " + std::strerror(errno);
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    const auto item = util::trim(line);
    if (item.empty() || item.front() == '#') continue;
    secrets.emplace_back(item);
  }
  if (in.bad()) {
    error = "cannot read secret file '" + file.string() + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<SourceConfig> parse_sources(config::Diagnostics& diagnostics, const YAML::Node& node,
                                        const std::filesystem::path& base_dir) {
  std::vector<SourceConfig> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    diagnostics.add(node.Mark(), "sources", "expected a list of sources (each item starts with '- name:')");
    return out;
  }
  std::set<std::string> names;
  std::set<std::string> paths;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "sources[" + std::to_string(i) + "]";
    config::MapReader r(diagnostics, node[i], path, kSourceKeys);
    SourceConfig s;
    s.name = r.string("name");
    s.path = r.string("path");
    s.format = r.string("format");
    const auto* format = connectors::find_format(s.format);
    if (r.has("format") && (format == nullptr || format->journal_only)) {
      const auto names = connectors::format_names();
      const auto suggestion = util::closest_match(s.format, names);
      r.error("format", "unknown format '" + s.format + "'" +
                            (suggestion.empty() ? "; expected " + util::join_choices(names)
                                                : "; did you mean '" + std::string(suggestion) + "'?"));
    }
    if (r.has("name") && !valid_name(s.name)) {
      r.error("name", "'" + s.name + "' is not a valid name; use 1-64 of a-z, 0-9, '-' and '_'");
    } else if (r.has("name") && !names.insert(s.name).second) {
      r.error("name", "another source is already named '" + s.name + "'");
    }
    if (r.has("path")) {
      if (!valid_path(s.path)) {
        r.error("path", "'" + s.path + "' is not a valid path; it starts with '/' and has no spaces, '?', '#' or '%'");
      } else if (s.path == "/healthz" || s.path == "/readyz" || s.path == "/status") {
        r.error("path", "'" + s.path + "' is reserved for health checks and status; choose another path");
      } else if (!paths.insert(s.path).second) {
        r.error("path", "another source already listens on '" + s.path + "'");
      }
    }
    s.replay_window = r.duration("replay_window");
    s.rate_limit = static_cast<double>(r.integer("rate_limit"));
    s.rate_burst = r.has("rate_burst") ? static_cast<double>(r.integer("rate_burst")) : 2 * s.rate_limit;
    s.idempotency_header = r.string("idempotency_header");
    s.idempotency_json_pointer = r.string("idempotency_json_pointer");
    if (!s.idempotency_header.empty() && !s.idempotency_json_pointer.empty()) {
      r.error("idempotency_json_pointer", "give idempotency_header or idempotency_json_pointer, not both");
    }
    if (!s.idempotency_json_pointer.empty() && s.idempotency_json_pointer.front() != '/') {
      r.error("idempotency_json_pointer",
              "'" + s.idempotency_json_pointer + "' is not a JSON Pointer; it starts with '/', such as /id");
    }
    config::MapReader auth(diagnostics, r.child("auth"), r.path_of("auth"), kAuthKeys);
    if (r.has("auth")) s.auth = parse_auth(auth, base_dir);
    if (format != nullptr && format->notice && s.auth.type != AuthType::PartnerCenter) {
      r.error("auth", "format '" + s.format + "' takes Partner Center's signed events: use auth: {type: partner_center}");
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace leadrelay::intake
