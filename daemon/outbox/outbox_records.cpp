#include "daemon/outbox/outbox_records.hpp"

#include <memory>

#include "daemon/lifecycle/event.hpp"
#include "daemon/log/log.hpp"
#include "daemon/model/lead.hpp"

namespace leadrelay::outbox {

connectors::DeliveryItem to_item(store::PendingDelivery&& pending) {
  connectors::DeliveryItem item;
  item.id = pending.id;
  constexpr std::string_view kKafka = "kafka:";
  if (pending.destination.rfind(kKafka, 0) == 0) item.topic = pending.destination.substr(kKafka.size());
  item.headers = {{"lead-id", pending.lead_id},
                  {"lead-schema", std::string(pending.event ? lifecycle::kEventSchema : model::kLeadSchema)},
                  {"lead-source", std::move(pending.source)},
                  {"lead-action", std::move(pending.action)},
                  {"test-lead", pending.test_lead ? "true" : "false"}};
  item.lead_id = std::move(pending.lead_id);
  item.key = std::move(pending.msg_key);
  item.lead_json = std::move(pending.lead_json);
  item.event = pending.event;
  return item;
}

std::future<bool> record_acks(store::Journal& journal, Backlog& backlog, std::vector<store::DeliveryAck> acks) {
  auto batch = std::make_shared<std::vector<store::DeliveryAck>>(std::move(acks));
  auto committed = std::make_shared<std::promise<bool>>();
  auto done = committed->get_future();
  const auto now = log::now_unix_ms();
  store::WriteJob job;
  job.apply = [batch, now](store::Transaction& tx, std::string& error) {
    return tx.ack_deliveries(*batch, now, error);
  };
  job.done = [batch, committed, &backlog](bool ok) {
    if (ok) {
      std::int64_t bytes = 0;
      for (const auto& a : *batch) bytes += a.bytes;
      backlog.remove(static_cast<std::int64_t>(batch->size()), bytes);
    }
    committed->set_value(ok);
  };
  journal.submit(std::move(job));
  return done;
}

}  // namespace leadrelay::outbox
