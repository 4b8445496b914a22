#include "daemon/intake/json_body.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <vector>

#include "daemon/util/strings.hpp"

namespace leadrelay::intake {

std::string error_body(const Rejection& r) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("error");
  w.String(r.code);
  w.Key("message");
  w.String(r.message);
  if (!r.field.empty()) {
    w.Key("field");
    w.String(r.field);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

namespace {

// The deepest nesting of objects and arrays, stopping early once past `limit`. Brackets inside strings do
// not count; the scan needs no valid JSON, so it runs before the parser can recurse or allocate.
int nesting_depth(std::string_view body, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

Rejection bad_request(std::string code, std::string message, std::string field = {}) {
  return Rejection{400, std::move(code), std::move(message), std::move(field)};
}

}  // namespace

bool parse_json_object(std::string_view body, rapidjson::Document& doc, Rejection& error, int max_depth) {
  if (util::trim(body).empty()) {
    error = bad_request("empty_body", "the request body is empty; send the lead as a JSON object");
    return false;
  }
  if (nesting_depth(body, max_depth) > max_depth) {
    error = bad_request("too_deep", "JSON nesting is deeper than " + std::to_string(max_depth) + " levels");
    return false;
  }
  // Iterative parsing keeps the parser off the call stack; trailing data is an error (root not singular).
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  doc.Parse<kFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    const auto code = doc.GetParseError();
    if (code == rapidjson::kParseErrorStringInvalidEncoding) {
      error = bad_request("invalid_utf8", "the body is not valid UTF-8 (near byte " +
                                              std::to_string(doc.GetErrorOffset()) + ")");
    } else {
      error = bad_request("invalid_json", std::string("the body is not valid JSON: ") +
                                              rapidjson::GetParseError_En(code) + " (at byte " +
                                              std::to_string(doc.GetErrorOffset()) + ")");
    }
    return false;
  }
  if (!doc.IsObject()) {
    error = bad_request("not_an_object", "the body must be a JSON object, got " + std::string(json_type_name(doc)));
    return false;
  }
  return true;
}

std::string_view json_type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "a value";
}

std::string ObjectReader::field_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool ObjectReader::check_unique_keys(Rejection& error) const {
  const auto name = [](const auto& it) { return std::string_view(it->name.GetString(), it->name.GetStringLength()); };
  if (object_.MemberCount() <= 32) {
    // A lead's objects are small: each pair compared ignoring case, with no allocation. Only a duplicate (or a large
    // object) takes the sorted path below, which also names the same key whatever the order of the members.
    bool duplicate = false;
    for (auto a = object_.MemberBegin(); !duplicate && a != object_.MemberEnd(); ++a) {
      for (auto b = a + 1; !duplicate && b != object_.MemberEnd(); ++b) duplicate = util::iequals(name(a), name(b));
    }
    if (!duplicate) return true;
  }
  std::vector<std::string> names;
  names.reserve(object_.MemberCount());
  for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it) {
    names.push_back(util::to_lower(name(it)));
  }
  std::sort(names.begin(), names.end());
  const auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) {
    error = bad_request("duplicate_key",
                        "key '" + *dup + "' appears more than once (keys are matched ignoring case); send it once",
                        field_path(*dup));
    return false;
  }
  return true;
}

const rapidjson::Value* ObjectReader::find(std::string_view key) const {
  for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it) {
    if (util::iequals(std::string_view(it->name.GetString(), it->name.GetStringLength()), key)) return &it->value;
  }
  return nullptr;
}

bool ObjectReader::string(std::string_view key, std::string& out, Rejection& error, bool multiline) const {
  out.clear();
  const auto* v = find(key);
  if (v == nullptr || v->IsNull()) return true;
  if (!v->IsString()) {
    error = bad_request("wrong_type", field_path(key) + " must be a string, got " + std::string(json_type_name(*v)),
                        field_path(key));
    return false;
  }
  const std::string_view raw(v->GetString(), v->GetStringLength());
  const auto control = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  };
  if (std::none_of(raw.begin(), raw.end(), control)) {  // the usual field: nothing to replace, only to trim
    out.assign(util::trim(raw));
    return true;
  }
  // Control characters become spaces (multi-line fields keep newlines and tabs and drop carriage returns), then the
  // result is trimmed: written straight into `out`, with no copy in between.
  out.reserve(raw.size());
  for (char c : raw) {
    if (control(c)) {
      if (multiline && (c == '\n' || c == '\t')) {
        out += c;
      } else if (multiline && c == '\r') {
        continue;
      } else {
        out += ' ';
      }
    } else {
      out += c;
    }
  }
  const auto kept = util::trim(out);
  if (kept.size() != out.size()) out = std::string(kept);
  return true;
}

bool ObjectReader::object(std::string_view key, const rapidjson::Value*& out, Rejection& error) const {
  out = nullptr;
  const auto* v = find(key);
  if (v == nullptr || v->IsNull()) return true;
  if (!v->IsObject()) {
    error = bad_request("wrong_type",
                        field_path(key) + " must be an object, got " + std::string(json_type_name(*v)),
                        field_path(key));
    return false;
  }
  out = v;
  return true;
}

}  // namespace leadrelay::intake
