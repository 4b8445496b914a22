#pragma once
// Format `pc-referral`: Partner Center referrals (../shared/design/FORMATS.md §2, LIFECYCLE.md §3). Partner Center
// notifies with a thin, signed webhook event ({EventName, ResourceUri, ...}); leadrelay journals the event, and the
// referral worker fetches the referral it names from the Referrals API and journals that resource (journal format
// `pc-referral/resource`), which the pipeline maps here onto the lead model. Pure: no I/O, no clock.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "daemon/intake/rejection.hpp"
#include "daemon/lifecycle/transitions.hpp"
#include "daemon/model/lead.hpp"

namespace leadrelay::connectors::pc_referral {

inline constexpr std::string_view kFormatName = "pc-referral";
// The journal's name for a fetched referral resource (never a source's format).
inline constexpr std::string_view kResourceFormat = "pc-referral/resource";

// The outbox destination of fetches (a journaled event waits there until its referral is fetched), and the sink
// name of write-backs ("sink:partner-center").
inline constexpr std::string_view kFetchDestination = "fetch:partner-center";
inline constexpr std::string_view kWriteBackSink = "partner-center";

struct ReferralEvent {
  std::string name;          // referral-created, referral-updated, related-referral-created, related-referral-updated
  std::string referral_id;   // the ResourceUri's last path segment
  std::string resource_uri;
  std::string changed_at;    // ResourceChangeUtcDate, as sent
};

// Reads a webhook event; false with a 400 naming the problem (an event that is none of the four, a ResourceUri
// that names no referral id).
bool parse_event(const rapidjson::Value& body, ReferralEvent& out, intake::Rejection& error);

// Intake's mapping of a webhook body: checks the event and keeps the referral id in lead.referral.id.
bool map_event(const rapidjson::Value& body, model::Lead& lead, intake::Rejection& error);

// Maps a Referrals API resource onto the lead: contact from customerProfile.team[0], company, country, size,
// lead type (profile when the target is a business profile location), classification from qualification,
// program, call to action (customerRequestedContact or Contact me: hot), notes, requirements, consent, deal value
// and currency, externalReferenceId, id, engagementId and eTag. Unknown enum values are kept as sent. False
// (with a 400-style rejection naming the field) when the resource has no id or a field of the wrong type.
bool map_resource(const rapidjson::Value& body, model::Lead& lead, intake::Rejection& error);

// What leadrelay writes back for one lead-event.v1 change of a referral lead.
struct WriteBack {
  std::string referral_id;
  lifecycle::Action action = lifecycle::Action::Accept;
  model::Status to_status = model::Status::Received;
  std::string patch;  // the RFC 6902 JSON Patch (replace/add only); empty: nothing to write
};
// Reads a lead-event.v1 document; false when it is not one, or names no referral.
bool read_write_back(std::string_view event_json, WriteBack& out, std::string& error);

// The referral's side as the write-back needs it.
struct ReferralState {
  std::string id, etag, status, substatus;
  bool closed() const;
};
bool read_state(const rapidjson::Value& resource, ReferralState& out);

// Whether `change` may still be written to a referral in `current` (after a 412 re-read): never to a Closed
// referral; accept and decline only while New; win, lose and deal updates only while Active. `done` is set when
// the referral already has the status the change gives (a write that reached Partner Center before a crash).
bool write_allowed(const ReferralState& current, const WriteBack& change, bool& done);

}  // namespace leadrelay::connectors::pc_referral
