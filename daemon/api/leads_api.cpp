#include "daemon/api/leads_api.hpp"

#include <rapidjson/document.h>

#include <limits>

#include "daemon/api/export.hpp"
#include "daemon/api/lead_query.hpp"
#include "daemon/api/lead_view.hpp"
#include "daemon/api/responses.hpp"
#include "daemon/log/log.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::api {
namespace {
using http::AdminRequest;
using http::AdminResponse;
using lifecycle::Action;
using lifecycle::ChangeRequest;

constexpr int kMaxListLimit = 500;

AdminResponse bad_query(const QueryProblem& p) { return error(400, "bad_request", p.message, p.field); }
AdminResponse not_found() { return error(404, "not_found", "no lead with that id", "id"); }

bool valid_lead_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// Leads as a JSON array, each as GET shows it.
std::string items_json(const std::vector<store::LeadRow>& rows, std::int64_t now_ms) {
  std::string out = "[";
  for (const auto& row : rows) {
    if (out.size() > 1) out += ',';
    out += lead_item_json(row, now_ms);
  }
  return out + "]";
}

std::string etag(std::int64_t version) { return "\"" + std::to_string(version) + "\""; }

// If-Match: "*" (any), or one entity tag as ETag gave it ("4", W/"4" or 4). nullopt when absent or "*"; false in
// `ok` when it is not one of ours.
std::optional<std::int64_t> if_match_version(std::string_view header, bool& ok) {
  ok = true;
  auto v = util::trim(header);
  if (v.empty() || v == "*") return std::nullopt;
  if (v.rfind("W/", 0) == 0) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  unsigned long long n = 0;
  if (!util::parse_u64(v, 1ULL << 62, n)) {
    ok = false;
    return std::nullopt;
  }
  return static_cast<std::int64_t>(n);
}

}  // namespace

LeadsApi::LeadsApi(std::filesystem::path state_dir, leads::Changes& changes, audit::AuditLog* audit)
    : state_dir_(std::move(state_dir)), changes_(changes), audit_(audit) {}
LeadsApi::~LeadsApi() = default;

AdminResponse LeadsApi::audited(AdminResponse answer, const Caller& caller, std::string_view action,
                                const std::vector<store::LeadRow>& rows, std::string detail) {
  if (audit_ == nullptr || answer.status >= 300) return answer;
  audit::Entry e;
  e.actor = caller.name;
  e.action = std::string(action);
  for (const auto& r : rows) e.lead_ids.push_back(r.lead_id);
  e.detail = std::move(detail);
  e.durable = action != "read" && action != "list" && action != "actions";
  std::string problem;
  if (!audit_->append(e, problem)) {
    log::error("audit_write_failed", {{"message", problem}});
    return error(503, "audit_unavailable", "the audit trail cannot be written, so contact data is not served: " + problem);
  }
  return answer;
}

std::unique_ptr<store::Reader> LeadsApi::acquire(std::string& error) {
  {
    std::lock_guard lock(mutex_);
    if (!readers_.empty()) {
      auto r = std::move(readers_.back());
      readers_.pop_back();
      return r;
    }
  }
  return store::Reader::open(state_dir_, error);
}

void LeadsApi::release(std::unique_ptr<store::Reader> reader) {
  std::lock_guard lock(mutex_);
  if (readers_.size() < 8) readers_.push_back(std::move(reader));
}


AdminResponse LeadsApi::handle(const AdminRequest& req, const Access& access) {
  std::string_view path = req.path;
  path.remove_prefix(std::min(path.size(), std::string_view("/api/v1").size()));
  const bool read = req.method == "GET";
  AdminResponse refusal;
  const auto caller = access.authorize(req.authorization, read ? Role::Viewer : Role::ReferralsAdmin, refusal);
  if (!caller) return refusal;

  if (path.rfind("/privacy/", 0) == 0) return privacy(req, path.substr(9), *caller);
  if (path.rfind("/insights/", 0) == 0) return read ? insights(req, path.substr(10)) : method_not_allowed("GET");
  if (path == "/leads") return read ? list(req, *caller) : method_not_allowed("GET");
  if (path == "/leads/export") return read ? export_leads(req, *caller) : method_not_allowed("GET");
  if (path == "/actions") return read ? actions(req, *caller) : method_not_allowed("GET");
  if (path == "/reasons") {
    if (!read) return method_not_allowed("GET");
    std::string body = R"({"reasons":[)";
    int n = 0;
    for (const auto reason : model::kCloseReasons) {
      if (n > 0) body += ',';
      body += R"({"number":)" + std::to_string(++n) + R"(,"label":)" + util::json_quote(reason) + "}";
    }
    return json(200, body + "]}");
  }
  constexpr std::string_view kLeads = "/leads/";
  if (path.rfind(kLeads, 0) != 0) {
    return error(404, "not_found",
                 "the leads API serves /api/v1/leads, /api/v1/leads/{id}, /api/v1/leads/export, /api/v1/actions, "
                 "/api/v1/reasons, /api/v1/insights/{widget} and /api/v1/privacy/{erase,person}");
  }
  path.remove_prefix(kLeads.size());
  const auto slash = path.find('/');
  const auto id = path.substr(0, slash);
  const auto verb = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  if (!valid_lead_id(id)) return error(400, "bad_request", "not a lead id", "id");
  if (verb.empty()) {
    if (read) return show(id, *caller);
    if (req.method == "PATCH") return change(req, id, Action::Update, *caller);
    return method_not_allowed("GET, PATCH");
  }
  if (verb == "favorite") {
    if (req.method != "PUT" && req.method != "DELETE") return method_not_allowed("PUT, DELETE");
    return change(req, id, req.method == "PUT" ? Action::Favorite : Action::Unfavorite, *caller);
  }
  for (const auto answer : {Action::Accept, Action::Decline, Action::Win, Action::Lose}) {
    if (verb != lifecycle::to_string(answer)) continue;
    if (req.method != "POST") return method_not_allowed("POST");
    return change(req, id, answer, *caller);
  }
  return error(404, "not_found", "leads take accept, decline, win, lose and favorite");
}

AdminResponse LeadsApi::list(const AdminRequest& req, const Caller& caller) {
  store::LeadFilter filter;
  filter.now_ms = log::now_unix_ms();
  if (const auto p = parse_lead_query(req.query, filter, kMaxListLimit); !p.message.empty()) return bad_query(p);
  Lease store(*this);
  if (!store) return store_unavailable(store.error);
  std::vector<store::LeadRow> rows;
  std::string problem;
  if (!store->leads(filter, rows, problem)) return store_unavailable(problem);
  std::string body = R"({"leads":)" + items_json(rows, filter.now_ms) + R"(,"next_cursor":)";
  body += static_cast<int>(rows.size()) == filter.limit ? util::json_quote(encode_cursor(rows.back().seq)) : "null";
  return audited(json(200, body + "}"), caller, "list", rows, std::string(req.query));
}

AdminResponse LeadsApi::actions(const AdminRequest& req, const Caller& caller) {
  store::LeadFilter filter;
  filter.limit = 100;
  const auto p = parse_lead_query(req.query, filter, kMaxListLimit);
  if (!p.message.empty()) return bad_query(p);
  store::LeadFilter only_limit;
  only_limit.limit = filter.limit;
  if (!(only_limit == filter)) {
    return error(400, "bad_request", "actions takes no filters, only limit (soonest expiry first)", "query");
  }
  Lease store(*this);
  if (!store) return store_unavailable(store.error);
  std::vector<store::LeadRow> rows;
  std::string problem;
  if (!store->waiting_leads(std::numeric_limits<std::int64_t>::max(), filter.limit, rows, problem)) {
    return store_unavailable(problem);
  }
  return audited(json(200, R"({"actions":)" + items_json(rows, log::now_unix_ms()) + "}"), caller, "actions", rows);
}

AdminResponse LeadsApi::export_leads(const AdminRequest& req, const Caller& caller) {
  store::LeadFilter filter;
  filter.now_ms = log::now_unix_ms();
  std::vector<std::string> extra;
  const auto p = parse_lead_query(req.query, filter, kMaxExportRows, {"format"}, &extra);
  if (!p.message.empty()) return bad_query(p);
  const auto& format = extra[0];
  if (format != "csv" && format != "tsv") return error(400, "bad_request", "format must be csv or tsv", "format");
  if (filter.before_seq > 0) return error(400, "bad_request", "the export takes no cursor", "cursor");
  filter.limit = kMaxExportRows;
  Lease store(*this);
  if (!store) return store_unavailable(store.error);
  std::vector<store::LeadRow> rows;
  std::string problem;
  std::int64_t total = 0;
  {
    auto snapshot = store->snapshot();  // the rows and their count from one view
    if (!store->leads(filter, rows, problem)) return store_unavailable(problem);
    total = static_cast<int>(rows.size()) < kMaxExportRows ? static_cast<std::int64_t>(rows.size())
                                                           : store->count_leads(filter);
  }
  AdminResponse r;
  r.content_type = format == "csv" ? "text/csv; charset=utf-8; header=present"
                                   : "text/tab-separated-values; charset=utf-8";
  r.headers.emplace_back("X-Total-Count", std::to_string(total));
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"leads." + format + "\"");
  r.body = export_table(rows, format == "csv" ? ExportFormat::Csv : ExportFormat::Tsv, total);
  return audited(std::move(r), caller, "export", rows, std::string(req.query));
}

AdminResponse LeadsApi::show(std::string_view id, const Caller& caller, std::string_view action) {
  Lease store(*this);
  if (!store) return store_unavailable(store.error);
  std::optional<store::LeadRow> row;
  std::vector<store::LeadEvent> history;
  {
    auto snapshot = store->snapshot();
    row = store->lead(id);
    if (row) history = store->lead_history(row->seq);
  }
  if (!row) return not_found();
  auto r = json(200, lead_detail_json(*row, history, log::now_unix_ms()));
  r.headers.emplace_back("ETag", etag(row->lifecycle.version));
  return audited(std::move(r), caller, action, {*row});
}

AdminResponse LeadsApi::change(const AdminRequest& req, std::string_view id, Action action, const Caller& caller) {
  if (!util::trim(req.body).empty() && req.content_type.rfind("application/json", 0) != 0) {
    return error(415, "unsupported_media_type", "send the body as application/json", "Content-Type");
  }
  bool tag_ok = true;
  const auto expected = if_match_version(req.if_match, tag_ok);
  if (!tag_ok) return error(400, "bad_request", "If-Match must be an ETag this API gave out, such as \"3\"", "If-Match");
  ChangeRequest request;
  if (action == Action::Favorite || action == Action::Unfavorite) {
    request.action = action;
  } else if (const auto p = parse_change_body(req.body, action, request); !p.message.empty()) {
    return bad_query(p);
  }
  const auto outcome = changes_.change(id, request, expected, caller.name, log::now_unix_ms());
  using Kind = leads::ChangeOutcome::Kind;
  switch (outcome.kind) {
    case Kind::NotFound: return not_found();
    case Kind::Invalid: return error(400, "bad_request", outcome.field + " " + outcome.problem, outcome.field);
    case Kind::Unavailable: return error(503, "store_unavailable", outcome.problem);
    case Kind::Stale: {
      auto r = json(412, R"({"error":"precondition_failed","message":"the lead changed since (it is at version )" +
                             std::to_string(outcome.lifecycle.version) +
                             R"(); GET it again and retry","version":)" + std::to_string(outcome.lifecycle.version) +
                             "}");
      r.headers.emplace_back("ETag", etag(outcome.lifecycle.version));
      return r;
    }
    case Kind::Conflict: {
      const auto status = model::to_string(outcome.lifecycle.status);
      std::string allowed = "[";
      for (auto a : lifecycle::allowed_actions(outcome.lifecycle.status)) {
        if (allowed.size() > 1) allowed += ',';
        allowed += util::json_quote(lifecycle::to_string(a));
      }
      allowed += "]";
      const bool overdue = lifecycle::overdue(outcome.lifecycle, log::now_unix_ms());
      return json(409, R"({"error":"conflict","message":)" +
                           util::json_quote("a lead in status " + std::string(status) + " cannot " + std::string(lifecycle::to_string(action)) +
                                  (overdue ? " (its response window has passed: it is expiring)" : "")) +
                           R"(,"status":)" + util::json_quote(status) + R"(,"allowed_actions":)" +
                           (overdue ? std::string("[]") : allowed) + "}");
    }
    case Kind::Applied:
    case Kind::Unchanged: break;
  }
  return show(id, caller, lifecycle::to_string(action));
}

}  // namespace leadrelay::api
