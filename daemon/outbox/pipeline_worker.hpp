#pragma once
// Runs the pipeline over every journaled lead, in order, and records the outcome durably: the lead's state and
// its routed form, plus one pending delivery per destination, written in one transaction with a cursor, so that
// after a crash each lead is routed exactly once. Runs on its own thread, after the journal commit.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/lifecycle/transitions.hpp"
#include "daemon/notify/notify_config.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/routing/router.hpp"
#include "daemon/validate/validator.hpp"

namespace leadrelay::outbox {

class PipelineWorker {
 public:
  PipelineWorker(store::Journal& journal, std::filesystem::path state_dir, Backlog& backlog,
                 std::shared_ptr<const routing::RouteTable> routes, const DedupConfig& dedup,
                 std::function<void()> on_deliveries, std::shared_ptr<const validate::Validator> validator = nullptr,
                 validate::MailDomainResolver* resolver = nullptr);
  ~PipelineWorker();

  // Seeds the backlog from the store and starts the thread; false with a message when the store cannot be read.
  bool start(std::string& error);
  void stop();
  // Leads routed from now on use `routes`; leads already routed keep their deliveries.
  void set_routes(std::shared_ptr<const routing::RouteTable> routes);
  // Leads validated from now on use these lists and rules.
  void set_validator(std::shared_ptr<const validate::Validator> validator);
  // Leads routed from now on start their lifecycle with these windows.
  void set_lifecycle(const lifecycle::Windows& windows);
  // Leads routed from now on are notified by these rules (null: none).
  void set_notifications(std::shared_ptr<const notify::NotifyConfig> notifications);
  // Leads journaled but not yet routed (thread-safe): how far routing runs behind intake.
  std::int64_t leads_to_route() const { return std::max<std::int64_t>(0, journal_.committed_seq() - cursor_.load()); }

 private:
  void run();
  bool process_batch();

  store::Journal& journal_;
  std::filesystem::path state_dir_;
  Backlog& backlog_;
  DedupConfig dedup_;
  std::function<void()> on_deliveries_;
  std::mutex routes_mutex_;
  std::shared_ptr<const routing::RouteTable> routes_;
  std::shared_ptr<const validate::Validator> validator_;
  lifecycle::Windows windows_;
  std::shared_ptr<const notify::NotifyConfig> notifications_;
  validate::MailDomainResolver* resolver_;  // null: DNS off
  std::unique_ptr<store::Reader> store_;
  std::atomic<std::int64_t> cursor_{0};
  std::int64_t companies_indexed_ = 0;  // the customer filter's index holds the leads up to this seq
  std::int64_t companies_indexed_at_ms_ = 0;
  bool deep_backlog_ = false;  // the next batch may be bigger: many leads wait behind the last (the .cpp)
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace leadrelay::outbox
