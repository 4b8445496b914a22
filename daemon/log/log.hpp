#pragma once
// JSON-lines logging to stderr: one object per line, {"ts":..,"level":..,"event":.., fields...}.
// Free-text string fields are passed through redact(); identifiers (lead ids, addresses) are marked safe.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace leadrelay::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

struct Field {
  // Free text: masked for emails and phone numbers.
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}  // SQLite's int64 columns
  Field(std::string_view k, std::uint64_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}

  std::string_view key;
  std::variant<std::string_view, std::int64_t, double, bool> value;
  bool safe = false;
};

// A string field written as it is: for identifiers the program made itself (lead ids, listen addresses, paths).
inline Field safe(std::string_view key, std::string_view value) {
  Field f(key, value);
  f.safe = true;
  return f;
}

void set_level(Level level);
bool enabled(Level level);
// Parses "debug", "info", "warn" or "error".
bool parse_level(std::string_view text, Level& out);

// Renders one line (without the trailing newline); exposed for tests.
std::string format_line(Level level, std::string_view event, std::initializer_list<Field> fields);
void write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::Debug)) write(Level::Debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::Info)) write(Level::Info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::Warn)) write(Level::Warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::Error, event, fields);
}

// "2026-11-23T01:02:03.456Z" for a Unix time in milliseconds.
std::string format_utc_ms(std::int64_t unix_ms);
// The daemon's wall clock: every lead time, window and log line reads it. Tests shift it to see windows
// expire (LEADRELAY_CLOCK_OFFSET, see run.cpp); the offset is 0 otherwise.
std::int64_t now_unix_ms();
void set_clock_offset_ms(std::int64_t offset);

}  // namespace leadrelay::log
