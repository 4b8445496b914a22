#include "daemon/log/log.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "daemon/log/redact.hpp"

namespace leadrelay::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}
}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, Level& out) {
  for (auto level : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    if (text == level_name(level)) {
      out = level;
      return true;
    }
  }
  return false;
}

namespace {
std::atomic<std::int64_t> g_clock_offset_ms{0};
}  // namespace

void set_clock_offset_ms(std::int64_t offset) { g_clock_offset_ms.store(offset); }

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count() +
         g_clock_offset_ms.load(std::memory_order_relaxed);
}

std::string format_utc_ms(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string format_line(Level level, std::string_view event, std::initializer_list<Field> fields) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const auto ts = format_utc_ms(now_unix_ms());
  w.StartObject();
  w.Key("ts");
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  w.Key("level");
  const auto name = level_name(level);
  w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.Key("event");
  w.String(event.data(), static_cast<rapidjson::SizeType>(event.size()));
  for (const auto& f : fields) {
    w.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
    if (const auto* s = std::get_if<std::string_view>(&f.value)) {
      if (f.safe) {
        w.String(s->data(), static_cast<rapidjson::SizeType>(s->size()));
      } else {
        const auto masked = redact(*s);
        w.String(masked.data(), static_cast<rapidjson::SizeType>(masked.size()));
      }
    } else if (const auto* i = std::get_if<std::int64_t>(&f.value)) {
      w.Int64(*i);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      w.Double(*d);
    } else {
      w.Bool(std::get<bool>(f.value));
    }
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  auto line = format_line(level, event, fields);
  line += '\n';
  // One write(2) per line: lines from several threads never interleave (stderr is unbuffered anyway).
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const auto n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace leadrelay::log
