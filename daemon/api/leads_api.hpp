#pragma once
// The leads API (schemas/admin-api.openapi.yaml), under /api/v1 on the admin listener: list, show, export and
// change leads, the leads waiting for an answer, and the close reasons. HTTP-agnostic: a whole request in, a
// whole answer out (the admin listener carries them). Reads come from the store on the calling thread; changes go
// through leads::Changes and are answered once committed.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "daemon/api/access.hpp"
#include "daemon/audit/audit_log.hpp"
#include "daemon/http/admin_server.hpp"
#include "daemon/insights/widgets.hpp"
#include "daemon/leads/changes.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::api {

class LeadsApi {
 public:
  // Every read of contact data and every change is written to `audit` (when given) before it is answered.
  LeadsApi(std::filesystem::path state_dir, leads::Changes& changes, audit::AuditLog* audit = nullptr);
  ~LeadsApi();

  static bool handles(std::string_view path) { return path == "/api/v1" || path.rfind("/api/v1/", 0) == 0; }
  // `access` decides who may; the caller's token name is the actor of changes.
  http::AdminResponse handle(const http::AdminRequest& request, const Access& access);
  // insights.usd_rates, replaced on reload.
  void set_usd_rates(insights::UsdRates rates);

 private:
  // A store reader for this call, from a small pool (one per admin thread at most).
  class Lease;
  std::unique_ptr<store::Reader> acquire(std::string& error);
  void release(std::unique_ptr<store::Reader> reader);

  http::AdminResponse list(const http::AdminRequest& request, const Caller& caller);
  http::AdminResponse actions(const http::AdminRequest& request, const Caller& caller);
  http::AdminResponse export_leads(const http::AdminRequest& request, const Caller& caller);
  http::AdminResponse show(std::string_view id, const Caller& caller, std::string_view action = "read");
  // /api/v1/privacy/erase and /api/v1/privacy/person (privacy_api.cpp).
  http::AdminResponse privacy(const http::AdminRequest& request, std::string_view what, const Caller& caller);
  // /api/v1/insights/<widget> (insights_api.cpp).
  http::AdminResponse insights(const http::AdminRequest& request, std::string_view widget);
  // Writes the audit entry of an answer about `rows`; the answer, or 503 when the trail cannot be written.
  http::AdminResponse audited(http::AdminResponse answer, const Caller& caller, std::string_view action,
                              const std::vector<store::LeadRow>& rows, std::string detail = {});
  http::AdminResponse change(const http::AdminRequest& request, std::string_view id, lifecycle::Action action,
                             const Caller& caller);

  std::filesystem::path state_dir_;
  leads::Changes& changes_;
  audit::AuditLog* audit_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<store::Reader>> readers_;
  insights::UsdRates usd_rates_;  // under mutex_
};

// A reader for one call, given back at the end of it (leads_api.cpp and privacy_api.cpp).
class LeadsApi::Lease {
 public:
  explicit Lease(LeadsApi& api) : api_(api), reader_(api.acquire(error)) {}
  ~Lease() {
    if (reader_) api_.release(std::move(reader_));
  }
  store::Reader* operator->() { return reader_.get(); }
  explicit operator bool() const { return reader_ != nullptr; }
  std::string error;

 private:
  LeadsApi& api_;
  std::unique_ptr<store::Reader> reader_;
};

}  // namespace leadrelay::api
