#pragma once
// The canonical form of a JSON body, for recognising a redelivery: two bodies that differ only in key order,
// key case, white space between tokens or inside string values, or Unicode normalisation form are one delivery.
#include <rapidjson/document.h>

#include <string>

namespace leadrelay::intake {

// Keys lower-cased and sorted; string values NFC-normalised, trimmed, runs of white space made one space;
// numbers, booleans and null as RapidJSON writes them; no white space between tokens.
std::string canonical_json(const rapidjson::Value& value);

// "sha256:<hex>" of the canonical form.
std::string canonical_digest(const rapidjson::Value& value);

}  // namespace leadrelay::intake
