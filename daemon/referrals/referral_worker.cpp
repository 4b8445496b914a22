#include "daemon/referrals/referral_worker.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <future>

#include "connectors/pc_referral/pc_referral_format.hpp"
#include "daemon/lifecycle/event.hpp"
#include "daemon/log/log.hpp"
#include "daemon/model/lead_id.hpp"
#include "daemon/outbox/outbox_records.hpp"
#include "daemon/util/strings.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::referrals {
namespace pc = connectors::pc_referral;
using Kind = pc::ApiResult::Kind;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::string_view kWatermark = "partner_center_poll";
// A referral is one lead for good: its replay key outlives any retention.
constexpr std::int64_t kForeverMs = 100LL * 365 * 86400000;

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}
}  // namespace

ReferralWorker::ReferralWorker(store::Journal& journal, std::filesystem::path state_dir, outbox::Backlog& backlog,
                               leads::Changes& changes, const pc::PartnerCenterConfig& config,
                               std::shared_ptr<pc::TokenSource> tokens, std::string poll_source)
    : journal_(journal),
      state_dir_(std::move(state_dir)),
      backlog_(backlog),
      changes_(changes),
      config_(config),
      client_(config, std::move(tokens)),
      poll_source_(std::move(poll_source)) {}

ReferralWorker::~ReferralWorker() { stop(); }

bool ReferralWorker::start(std::string& error) {
  store_ = store::Reader::open(state_dir_, error);
  if (!store_) return false;
  next_poll_ = Clock::now();  // the first poll at start: what was missed while leadrelay was down
  thread_ = util::background_thread("lr-referrals", [this] { run(); });
  return true;
}

void ReferralWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    work_ = true;
  }
  wake_.notify_one();
}

void ReferralWorker::stop() {
  if (stopping_.exchange(true)) return;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ReferralWorker::pause_until(Clock::time_point when) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, when, [&] { return work_ || stopping_.load(); });
  work_ = false;
  return !stopping_.load();
}

std::chrono::milliseconds ReferralWorker::backoff(int attempts, std::chrono::milliseconds asked) {
  const auto ceiling = config_.retry.max_backoff.count();
  const auto base = std::min<std::int64_t>(ceiling, config_.retry.initial_backoff.count() << std::min(attempts, 20));
  std::uniform_int_distribution<std::int64_t> jitter(base / 2, base);
  return std::chrono::milliseconds(std::max<std::int64_t>(jitter(random_), asked.count()));
}

void ReferralWorker::run() {
  log::info("referrals_started", {log::safe("api_url", config_.api_url),
                                  {"poll_interval_s", static_cast<std::int64_t>(config_.poll_interval.count() / 1000)}});
  while (!stopping_.load()) {
    auto wake_at = fetch_due();
    if (stopping_.load()) break;
    if (config_.poll_interval.count() > 0) {
      if (Clock::now() >= next_poll_) {
        const bool ok = poll();
        poll_failures_ = ok ? 0 : poll_failures_ + 1;
        next_poll_ = Clock::now() + (ok ? config_.poll_interval
                                        : std::min<std::chrono::milliseconds>(config_.poll_interval,
                                                                              backoff(poll_failures_, {})));
      }
      wake_at = std::min(wake_at, next_poll_);
    }
    if (!pause_until(wake_at)) break;
  }
}

Clock::time_point ReferralWorker::fetch_due() {
  auto soonest = Clock::now() + std::chrono::seconds(60);
  std::vector<store::PendingDelivery> rows;
  std::string error;
  if (!store_->pending_deliveries(pc::kFetchDestination, 0, 200, rows, error)) {
    log::warn("store_read_failed", {log::safe("worker", "referrals"), {"message", error}});
    return Clock::now() + std::chrono::seconds(1);
  }
  std::vector<store::DeliveryAck> acks;
  bool throttled = false;
  const auto dead = [&](const store::PendingDelivery& row, const std::string& why) {
    acks.push_back({row.id, row.bytes, why, {}});
    log::error("referral_dead_letter", {log::safe("event_lead_id", row.lead_id), log::safe("referral_id", row.msg_key),
                                        {"delivery", row.id}, {"message", why},
                                        {"hint", "see it with: leadrelay dlq show --id " + std::to_string(row.id) +
                                                     "; replay with: leadrelay dlq replay --sink " +
                                                     std::string(pc::kFetchDestination)}});
  };
  for (const auto& row : rows) {
    if (stopping_.load()) break;
    auto& retry = retries_[row.id];  // erased below once done
    if (retry.due > Clock::now()) {
      soonest = std::min(soonest, retry.due);
      continue;
    }
    // The pipeline keyed the fetch with the referral id its event named.
    const auto& referral_id = row.msg_key;
    if (referral_id.empty()) {
      dead(row, "not a Partner Center referral event");
      continue;
    }
    const auto fetched = client_.get(referral_id);
    std::string problem;
    Taken taken = Taken::Later;
    if (fetched.kind == Kind::Ok) {
      rapidjson::Document d;
      d.Parse(fetched.body.data(), fetched.body.size());
      if (d.HasParseError() || !d.IsObject()) {
        taken = Taken::Failed;
        problem = "Partner Center answered referral " + referral_id + " with something that is not a JSON object";
      } else {
        taken = take(d, fetched.body, row.source, problem);
      }
    } else if (fetched.kind == Kind::NotFound) {
      taken = Taken::Failed;
      problem = "referral " + referral_id + " not found at Partner Center (404): " + fetched.message;
    } else if (fetched.kind == Kind::Permanent) {
      taken = Taken::Failed;
      problem = "Partner Center refused to give referral " + referral_id + ": " + fetched.message;
    } else {
      problem = fetched.message;
    }
    if (taken == Taken::Done) {
      acks.push_back({row.id, row.bytes, {}, {}});
      retries_.erase(row.id);
    } else if (taken == Taken::Failed) {
      dead(row, problem);
      retries_.erase(row.id);
    } else {
      retry.due = Clock::now() + backoff(retry.attempts++, fetched.retry_after);
      soonest = std::min(soonest, retry.due);
      log::warn("referral_fetch_retry", {log::safe("referral_id", referral_id), {"attempt", retry.attempts},
                                         {"message", problem}, {"hint", "the event stays stored; fetched again later"}});
      if (fetched.kind != Kind::Ok) {
        // Partner Center is down, slow or throttling: the others wait for the next pass too, instead of each
        // asking (or hanging) in turn.
        throttled = true;
        break;
      }
    }
  }
  if (!acks.empty() && !outbox::record_acks(journal_, backlog_, std::move(acks)).get()) {
    log::warn("outbox_ack_not_stored", {log::safe("worker", "referrals"),
                                        {"hint", "those referrals are fetched again (they are one lead each)"}});
  }
  // Keep retry state only for fetches still pending (a replayed dead letter is a new delivery).
  std::map<std::int64_t, Retry> still;
  for (const auto& row : rows) {
    if (const auto it = retries_.find(row.id); it != retries_.end()) still.insert(*it);
  }
  retries_ = std::move(still);
  return rows.size() == 200 && !throttled ? Clock::now() : soonest;
}

ReferralWorker::Taken ReferralWorker::take(const rapidjson::Value& resource, const std::string& raw,
                                           const std::string& source, std::string& problem) {
  model::Lead lead;
  intake::Rejection rejected;
  if (!pc::map_resource(resource, lead, rejected)) {
    problem = "malformed referral: " + rejected.message + (rejected.field.empty() ? "" : " (" + rejected.field + ")");
    return Taken::Failed;
  }
  const auto now = log::now_unix_ms();
  const auto lead_id = store_->referral_lead(lead.referral.id);
  if (!lead_id.empty()) {
    // Known: Partner Center's status and deal, applied as its change.
    const auto request = lifecycle::referral_sync(lead);
    if (!request.to_status) {
      log::info("referral_status_unknown", {log::safe("referral_id", lead.referral.id),
                                            log::safe("status", lead.referral.status),
                                            log::safe("substatus", lead.referral.substatus)});
      return Taken::Done;
    }
    const auto outcome = changes_.change(lead_id, request, std::nullopt, lifecycle::kPartnerCenterActor, now);
    switch (outcome.kind) {
      case leads::ChangeOutcome::Kind::Applied:
      case leads::ChangeOutcome::Kind::Unchanged: return Taken::Done;
      case leads::ChangeOutcome::Kind::Conflict:
      case leads::ChangeOutcome::Kind::Invalid:
        log::warn("referral_status_not_applied",
                  {log::safe("lead_id", lead_id), log::safe("referral_id", lead.referral.id),
                   log::safe("partner_center_status", lead.referral.status + "/" + lead.referral.substatus),
                   log::safe("lead_status", model::to_string(outcome.lifecycle.status)),
                   {"hint", "a final status is kept; settle the referral in Partner Center"}});
        return Taken::Done;
      case leads::ChangeOutcome::Kind::NotFound:
      case leads::ChangeOutcome::Kind::Stale: return Taken::Later;
      case leads::ChangeOutcome::Kind::Unavailable: problem = outcome.problem; return Taken::Later;
    }
    return Taken::Later;
  }
  // New: journaled as received, then made a lead by the pipeline. Its replay key makes a second copy (the poll and
  // a webhook, or a crash before the fetch was acknowledged) the same lead.
  store::Entry entry;
  entry.lead_id = model::new_lead_id(now);
  entry.source = source.empty() ? poll_source_ : source;
  entry.received_at_ms = now;
  entry.raw = raw;
  entry.format = std::string(pc::kResourceFormat);
  entry.replay_key = "pc-referral|" + lead.referral.id;
  entry.replay_expires_ms = now + kForeverMs;
  std::promise<store::AppendResult> appended;
  auto result = appended.get_future();
  journal_.append(std::move(entry), [&appended](store::AppendResult r) { appended.set_value(std::move(r)); });
  const auto r = result.get();
  switch (r.status) {
    case store::AppendStatus::Committed:
      log::info("referral_received", {log::safe("lead_id", r.lead_id), log::safe("referral_id", lead.referral.id)});
      return Taken::Done;
    case store::AppendStatus::Duplicate:
      // Journaled already and not routed yet: its update is applied once it is.
      problem = "referral " + lead.referral.id + " is journaled and waits for the pipeline";
      return Taken::Later;
    default:
      problem = "the store did not take referral " + lead.referral.id + " (is the disk full?)";
      return Taken::Later;
  }
}

bool ReferralWorker::poll() {
  const auto stored = store_->cursor(kWatermark, 0);
  const auto since = stored > 0 ? stored : log::now_unix_ms() - config_.first_poll_lookback.count();
  auto watermark = since;
  std::string page, next;
  std::int64_t seen = 0;
  for (int pages = 0; pages < 10000 && !stopping_.load(); ++pages) {
    const auto listed = client_.list(since, page, next);
    if (listed.kind != Kind::Ok) {
      log::warn("referral_poll_failed", {{"message", listed.message},
                                         {"hint", "referrals updated since the last poll are listed again later"}});
      return false;
    }
    rapidjson::Document d;
    d.Parse(listed.body.data(), listed.body.size());
    for (const auto& item : d["value"].GetArray()) {
      ++seen;
      std::string problem;
      const auto taken = item.IsObject() ? take(item, to_json(item), poll_source_, problem) : Taken::Failed;
      if (taken == Taken::Later) {
        // Not past this one: the watermark stays before it, and the next poll lists it again.
        log::info("referral_poll_paused", {{"message", problem}});
        if (watermark > since) {
          journal_.write([&](store::Transaction& tx, std::string& error) {
            return tx.set_cursor(kWatermark, watermark, error);
          });
        }
        return false;
      }
      if (taken == Taken::Failed) {
        log::warn("referral_malformed", {{"message", problem.empty() ? "not a JSON object" : problem},
                                         {"hint", "Partner Center listed a referral leadrelay cannot read; skipped"}});
      }
      if (item.IsObject() && item.HasMember("updatedDateTime") && item["updatedDateTime"].IsString()) {
        std::int64_t ms = 0;
        if (util::parse_utc_ms(item["updatedDateTime"].GetString(), ms)) watermark = std::max(watermark, ms);
      }
    }
    if (watermark > stored &&
        !journal_.write([&](store::Transaction& tx, std::string& error) {
          return tx.set_cursor(kWatermark, watermark, error);
        })) {
      return false;
    }
    if (next.empty()) break;
    page = next;
  }
  if (seen > 0) log::info("referral_poll", {{"referrals", seen}, log::safe("watermark", log::format_utc_ms(watermark))});
  return true;
}

}  // namespace leadrelay::referrals
