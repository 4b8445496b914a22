#pragma once
// What the outbox's workers share: a pending delivery as the record a destination is handed, and recording what
// became of deliveries (delivered, or a dead letter) through the journal writer, off the backlog once durable.
#include <future>
#include <vector>

#include "connectors/sinks/sink.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/records.hpp"

namespace leadrelay::outbox {

// The record for a destination: key, the lead.v1 value and the headers every destination gets (lead-id,
// lead-schema, lead-source, lead-action, test-lead).
connectors::DeliveryItem to_item(store::PendingDelivery&& pending);

// Queues `acks` for the writer's next transaction; once committed they leave the backlog. The future says
// whether they were stored.
std::future<bool> record_acks(store::Journal& journal, Backlog& backlog, std::vector<store::DeliveryAck> acks);

}  // namespace leadrelay::outbox
