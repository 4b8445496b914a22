#pragma once
// Parsing a request body into JSON safely, and reading objects whose keys senders spell in any case.
#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "daemon/intake/rejection.hpp"

namespace leadrelay::intake {

inline constexpr int kMaxJsonDepth = 32;

// Parses `body` as one JSON object. Rejects: an empty body, invalid UTF-8, nesting deeper than `max_depth`
// (checked before parsing, so a depth bomb costs one linear scan), syntax errors (with the byte offset),
// trailing data, and any top-level value other than an object.
bool parse_json_object(std::string_view body, rapidjson::Document& doc, Rejection& error,
                       int max_depth = kMaxJsonDepth);

// Read access to one JSON object with case-insensitive keys ("UserDetails" and "userDetails" alike).
class ObjectReader {
 public:
  ObjectReader(const rapidjson::Value& object, std::string path) : object_(object), path_(std::move(path)) {}

  // Two keys that differ only in case (or not at all) make the object ambiguous: a 400 naming the key.
  bool check_unique_keys(Rejection& error) const;
  const rapidjson::Value* find(std::string_view key) const;

  // A string member, trimmed, control characters removed (`multiline` keeps tabs and line breaks).
  // Absent or null reads as "". Any other type is a 400 naming the field.
  bool string(std::string_view key, std::string& out, Rejection& error, bool multiline = false) const;
  // An object member; absent or null gives nullptr. Any other type is a 400 naming the field.
  bool object(std::string_view key, const rapidjson::Value*& out, Rejection& error) const;

  std::string field_path(std::string_view key) const;

 private:
  const rapidjson::Value& object_;
  std::string path_;
};

std::string_view json_type_name(const rapidjson::Value& v);

}  // namespace leadrelay::intake
