#include "daemon/intake/intake.hpp"

#include "daemon/intake/canonical.hpp"
#include "daemon/intake/json_body.hpp"
#include "daemon/model/lead_id.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::intake {

Intake::Intake(const std::vector<SourceConfig>& sources) {
  for (const auto& s : sources) {
    sources_.push_back(std::make_unique<Source>(
        Source{s, SourceAuth(s.auth), connectors::find_format(s.format),
               rapidjson::Pointer(s.idempotency_json_pointer.empty() ? "" : s.idempotency_json_pointer.c_str()),
               s.rate_limit > 0 ? std::make_unique<RateLimiter>(s.rate_limit, s.rate_burst, 1) : nullptr}));
  }
}

namespace {
// Parses `body` and maps it with `format`, then gives the lead its identity: the one mapping step of intake and of
// the pipeline (map_journaled), so that both make the same lead of the same body.
bool map_body(const connectors::SourceFormat& format, std::string_view body, std::string_view lead_id,
              std::string_view source, std::int64_t received_at_ms, rapidjson::Document& doc, model::Lead& lead,
              Rejection& error) {
  if (!parse_json_object(body, doc, error) || !format.map(doc, lead, error)) return false;
  lead.lead_id = std::string(lead_id);
  lead.received_at_ms = received_at_ms;
  lead.source_name = std::string(source);
  lead.format = std::string(format.lead_format.empty() ? format.name : format.lead_format);
  return true;
}
}  // namespace

bool is_json_content_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  if (!util::iequals(util::trim(content_type.substr(0, semicolon)), "application/json")) return false;
  for (auto rest = semicolon == std::string_view::npos ? std::string_view{} : content_type.substr(semicolon + 1);
       !rest.empty();) {
    const auto next = rest.find(';');
    const auto param = util::trim(rest.substr(0, next));
    const auto eq = param.find('=');
    if (eq != std::string_view::npos && util::iequals(util::trim(param.substr(0, eq)), "charset")) {
      auto value = util::trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (!util::iequals(value, "utf-8") && !util::iequals(value, "utf8")) return false;
    }
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
  }
  return true;
}

HeadDecision Intake::on_head(const RequestHead& head) const {
  HeadDecision d;
  const auto question = head.target.find('?');
  const auto path = head.target.substr(0, question);
  const auto query = question == std::string_view::npos ? std::string_view{} : head.target.substr(question + 1);

  if (path == "/healthz" || path == "/readyz") {
    if (head.method != "GET" && head.method != "HEAD") {
      d.rejection = {405, "method_not_allowed", "use GET for " + std::string(path)};
      d.allow = "GET, HEAD";
      return d;
    }
    d.route = path == "/healthz" ? Route::Healthz : Route::Readyz;
    return d;
  }

  const Source* source = nullptr;
  for (const auto& s : sources_) {
    if (s->config.path == path) source = s.get();
  }
  if (source == nullptr) {
    d.rejection = {404, "not_found", "no source listens on this path; check the URL against the sources in the config"};
    return d;
  }
  if (head.method != "POST") {
    d.rejection = {405, "method_not_allowed", "leads are sent with POST"};
    d.allow = "POST";
    return d;
  }
  if (!source->auth.check(query, head.authorization)) {
    d.rejection = {401, "unauthorized", "authentication failed"};
    return d;
  }
  if (!is_json_content_type(head.content_type)) {
    d.rejection = {415, "unsupported_media_type",
                   "send the lead as JSON with 'Content-Type: application/json' (UTF-8)"};
    return d;
  }
  d.route = Route::Lead;
  d.source = source;
  return d;
}

bool Intake::on_body(const Source& source, std::string_view body, std::int64_t now_ms, model::Lead& lead,
                     std::string& replay_key, Rejection& error, std::string_view idempotency_header,
                     const SignatureHeaders& signature) const {
  const auto type = source.auth.type();
  if ((type == AuthType::Hmac &&
       !source.auth.check_signature(signature.id, signature.timestamp, signature.signature, body, now_ms)) ||
      (type == AuthType::PartnerCenter &&
       !source.auth.check_rsa_signature(signature.key, signature.algorithm, signature.signature, body))) {
    error = {401, "unauthorized", "authentication failed"};
    return false;
  }
  rapidjson::Document doc;
  if (!map_body(*source.format, body, model::new_lead_id(now_ms), source.config.name, now_ms, doc, lead, error)) {
    return false;
  }
  replay_key.clear();
  if (source.config.replay_window.count() > 0) {
    // Keys are per source: the same body sent to two sources is two deliveries.
    replay_key = source.config.name + "|";
    const rapidjson::Value* id =
        source.config.idempotency_json_pointer.empty() ? nullptr : source.idempotency_pointer.Get(doc);
    if (!source.config.idempotency_header.empty() && !util::trim(idempotency_header).empty()) {
      replay_key += "header:" + std::string(util::trim(idempotency_header));
    } else if (id != nullptr && !id->IsNull()) {
      replay_key += "json:" + canonical_json(*id);
    } else {
      // No idempotency key configured, or the request lacks it: the body's content decides.
      replay_key += canonical_digest(doc);
    }
  }
  return true;
}

bool map_journaled(std::string_view format, std::string_view raw, std::string_view lead_id, std::string_view source,
                   std::int64_t received_at_ms, model::Lead& lead, std::string& error) {
  const auto* mapper = connectors::find_format(format);
  if (mapper == nullptr) {
    error = "unknown format '" + std::string(format) + "'";
    return false;
  }
  rapidjson::Document doc;
  Rejection rejection;
  if (!map_body(*mapper, raw, lead_id, source, received_at_ms, doc, lead, rejection)) {
    error = rejection.message;
    return false;
  }
  return true;
}

std::string accepted_body(std::string_view lead_id) {
  return R"({"lead_id":")" + std::string(lead_id) + R"(","status":"accepted"})";
}

std::string duplicate_body(std::string_view lead_id) {
  return R"({"lead_id":")" + std::string(lead_id) + R"(","status":"duplicate","duplicate":true})";
}

}  // namespace leadrelay::intake
