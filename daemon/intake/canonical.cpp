#include "daemon/intake/canonical.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <uninorm.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "daemon/util/digest.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::intake {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string nfc(std::string_view s) {
  // Pure ASCII is already NFC: skip the library call for the common case.
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return std::string(s);
  }
  std::size_t length = 0;
  uint8_t* out = u8_normalize(UNINORM_NFC, reinterpret_cast<const uint8_t*>(s.data()), s.size(), nullptr, &length);
  if (out == nullptr) return std::string(s);
  std::string result(reinterpret_cast<const char*>(out), length);
  std::free(out);
  return result;
}

std::string squeeze(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : util::trim(s)) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

void write(const rapidjson::Value& v, Writer& w) {
  if (v.IsObject()) {
    std::vector<std::pair<std::string, const rapidjson::Value*>> members;
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      members.emplace_back(util::to_lower(nfc({it->name.GetString(), it->name.GetStringLength()})), &it->value);
    }
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    w.StartObject();
    for (const auto& [key, value] : members) {
      w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      write(*value, w);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (const auto& item : v.GetArray()) write(item, w);
    w.EndArray();
  } else if (v.IsString()) {
    const auto s = squeeze(nfc({v.GetString(), v.GetStringLength()}));
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  } else {
    v.Accept(w);
  }
}

}  // namespace

std::string canonical_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  write(value, w);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string canonical_digest(const rapidjson::Value& value) {
  return "sha256:" + util::sha256_hex(canonical_json(value));
}

}  // namespace leadrelay::intake
