#pragma once
// Members written with RapidJSON's Writer the same way by every document leadrelay writes (lead.v1, lead-event.v1,
// the lifecycle the API shows): a string; a string that is null when empty ("not sent", so consumers can tell it
// from a value); a boolean.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

namespace leadrelay::util::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void key(Writer& w, std::string_view name) { w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size())); }

inline void string(Writer& w, std::string_view name, std::string_view value) {
  key(w, name);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

inline void optional(Writer& w, std::string_view name, std::string_view value) {
  if (value.empty()) {
    key(w, name);
    w.Null();
  } else {
    string(w, name, value);
  }
}

inline void boolean(Writer& w, std::string_view name, bool value) {
  key(w, name);
  w.Bool(value);
}

}  // namespace leadrelay::util::json
