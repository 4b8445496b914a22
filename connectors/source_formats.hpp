#pragma once
// The registry of inbound formats, keyed by a source's `format:`. Each format maps a parsed JSON body onto
// the Lead model; registration is explicit, in source_formats.cpp.
#include <rapidjson/document.h>

#include <string_view>
#include <vector>

#include "daemon/intake/rejection.hpp"
#include "daemon/model/lead.hpp"

namespace leadrelay::connectors {

// Fills the lead's content fields from `body` (a JSON object). Returns false with a 400 Rejection naming the
// field when the body cannot be a lead of this format. Pure: no I/O, no clock.
using MapFunction = bool (*)(const rapidjson::Value& body, model::Lead& lead, intake::Rejection& error);

struct SourceFormat {
  std::string_view name;
  MapFunction map;
  // A thin notification (Partner Center's referral events): the pipeline queues a fetch of the resource it names
  // instead of routing it.
  bool notice = false;
  // Only the journal names it (a fetched resource), never a source's `format:`.
  bool journal_only = false;
  std::string_view lead_format = {};  // the lead's source.format when it differs from `name`
};

// Any format a journal row may name (journal-only ones included).
const SourceFormat* find_format(std::string_view name);
// The formats a source may name.
std::vector<std::string_view> format_names();

}  // namespace leadrelay::connectors
