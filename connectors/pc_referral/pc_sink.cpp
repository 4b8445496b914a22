#include "connectors/pc_referral/pc_sink.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "connectors/pc_referral/pc_referral_format.hpp"
#include "daemon/log/log.hpp"

namespace leadrelay::connectors::pc_referral {
namespace {
using Status = DeliveryResult::Status;

DeliveryResult failed(const ApiResult& r, std::string_view what) {
  const auto kind = r.kind == ApiResult::Kind::Permanent || r.kind == ApiResult::Kind::NotFound ? Status::Permanent
                                                                                                 : Status::Retry;
  return {kind, std::string(what) + ": " + r.message, r.retry_after, {}};
}

}  // namespace

std::string conflict_json(std::string_view event_json, std::string_view pc_status, std::string_view message) {
  rapidjson::Document e;
  e.Parse(event_json.data(), event_json.size());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const auto copy = [&](const char* key) {
    if (e.IsObject() && e.HasMember(key)) {
      w.Key(key);
      e[key].Accept(w);
    }
  };
  w.StartObject();
  w.Key("schema");
  w.String("lead-event.v1");
  if (e.IsObject() && e.HasMember("event_id") && e["event_id"].IsString()) {
    w.Key("event_id");
    w.String((std::string(e["event_id"].GetString()) + "/conflict").c_str());
  }
  copy("lead_id");
  copy("version");
  w.Key("action");
  w.String("conflict");
  // The lead stays as leadrelay has it: from and to are its status.
  if (e.IsObject() && e.HasMember("to_status")) {
    w.Key("from_status");
    e["to_status"].Accept(w);
    w.Key("to_status");
    e["to_status"].Accept(w);
  }
  w.Key("changed");
  w.StartObject();
  w.EndObject();
  w.Key("actor");
  w.String("partner-center");
  w.Key("at");
  const auto at = log::format_utc_ms(log::now_unix_ms());
  w.String(at.c_str());
  copy("referral_id");
  w.Key("conflict");
  w.StartObject();
  w.Key("partner_center_status");
  w.String(pc_status.data(), static_cast<rapidjson::SizeType>(pc_status.size()));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

PartnerCenterSink::PartnerCenterSink(const PartnerCenterConfig& config, std::shared_ptr<TokenSource> tokens)
    : client_(config, std::move(tokens)) {}

DeliveryResult PartnerCenterSink::deliver(const DeliveryItem& item) {
  WriteBack change;
  std::string error;
  if (!read_write_back(item.lead_json, change, error)) return {Status::Permanent, error, {}, {}};
  if (change.patch.empty()) return {};  // nothing Partner Center keeps
  // Read, decide, write with the eTag just read; a 412 means someone wrote in between: read and decide again.
  for (int round = 0; round < 5; ++round) {
    const auto current = client_.get(change.referral_id);
    if (current.kind != ApiResult::Kind::Ok) return failed(current, "GET referral " + change.referral_id);
    rapidjson::Document d;
    d.Parse(current.body.data(), current.body.size());
    ReferralState state;
    if (d.HasParseError() || !read_state(d, state)) {
      return {Status::Retry, "GET referral " + change.referral_id + ": not a referral resource", {}, {}};
    }
    bool done = false;
    if (!write_allowed(state, change, done)) {
      const auto pc = state.status + (state.substatus.empty() ? "" : "/" + state.substatus);
      const auto message = std::string("Partner Center has the referral ") + pc + "; leadrelay's " +
                           std::string(lifecycle::to_string(change.action)) + " was not written" +
                           (state.closed() ? " (nothing is written to a Closed referral)" : "");
      log::warn("partner_center_conflict", {log::safe("lead_id", item.lead_id),
                                            log::safe("referral_id", change.referral_id),
                                            log::safe("partner_center_status", pc),
                                            log::safe("action", lifecycle::to_string(change.action)),
                                            {"hint", "the lead keeps leadrelay's status; settle it in Partner Center"}});
      return {Status::Ok, message, {}, conflict_json(item.lead_json, pc, message)};
    }
    if (done) return {};  // already there: a write that reached Partner Center before leadrelay could record it
    const auto written = client_.patch(change.referral_id, state.etag, change.patch);
    if (written.kind == ApiResult::Kind::Ok) {
      log::info("partner_center_written", {log::safe("lead_id", item.lead_id),
                                           log::safe("referral_id", change.referral_id),
                                           log::safe("action", lifecycle::to_string(change.action))});
      return {};
    }
    if (written.kind != ApiResult::Kind::Stale) return failed(written, "PATCH referral " + change.referral_id);
  }
  return {Status::Retry, "PATCH referral " + change.referral_id + ": 412 five times in a row", {}, {}};
}

}  // namespace leadrelay::connectors::pc_referral
