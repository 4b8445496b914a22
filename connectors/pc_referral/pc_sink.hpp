#pragma once
// Writing a referral lead's changes back to Partner Center (the outbox's "sink:partner-center"): each lead-event.v1
// of an accept, decline, win, lose or deal update becomes one JSON Patch of the referral, sent with If-Match on the
// eTag just read. On 412 the referral is read again and the change applied again while it is still allowed; a
// change Partner Center can no longer take (the referral is Closed, or moved on) is done with a conflict in the
// lead's history and the log, and nothing is ever written to a Closed referral. A change already there (a write
// that reached Partner Center before a crash) is not sent twice.
#include <memory>

#include "connectors/pc_referral/referrals_client.hpp"
#include "connectors/sinks/sink.hpp"

namespace leadrelay::connectors::pc_referral {

class PartnerCenterSink : public Sink {
 public:
  PartnerCenterSink(const PartnerCenterConfig& config, std::shared_ptr<TokenSource> tokens);
  DeliveryResult deliver(const DeliveryItem& item) override;

 private:
  ReferralsClient client_;
};

// The history entry (lead-event.v1, action "conflict") for a change Partner Center could not take.
std::string conflict_json(std::string_view event_json, std::string_view pc_status, std::string_view message);

}  // namespace leadrelay::connectors::pc_referral
