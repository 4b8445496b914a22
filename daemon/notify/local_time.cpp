#include "daemon/notify/local_time.hpp"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <chrono>
#include <cstdio>

namespace leadrelay::notify {

struct Zone::Impl {
  std::unique_ptr<icu::TimeZone> zone;
};

Zone::Zone(std::string name, std::unique_ptr<Impl> impl) : name_(std::move(name)), impl_(std::move(impl)) {}
Zone::~Zone() = default;

std::shared_ptr<const Zone> Zone::open(std::string_view name, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->zone.reset(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(icu::StringPiece(name.data(),
                                                                                             static_cast<int32_t>(name.size())))));
  if (!impl->zone || *impl->zone == icu::TimeZone::getUnknown()) {
    error = "unknown time zone '" + std::string(name) + "'; use an IANA name such as Europe/Berlin, America/New_York or UTC";
    return nullptr;
  }
  return std::shared_ptr<const Zone>(new Zone(std::string(name), std::move(impl)));
}

std::int64_t Zone::offset_ms(std::int64_t utc_ms) const {
  int32_t raw = 0;
  int32_t dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  impl_->zone->getOffset(static_cast<UDate>(utc_ms), false, raw, dst, status);
  return U_FAILURE(status) ? 0 : static_cast<std::int64_t>(raw) + dst;
}

namespace {
using namespace std::chrono;

struct Civil {
  year_month_day date;
  std::int64_t ms_of_day;
};

Civil civil(std::int64_t local_ms) {
  const auto days = floor<std::chrono::days>(milliseconds(local_ms));
  return {year_month_day(sys_days(days)), local_ms - duration_cast<milliseconds>(days).count()};
}
}  // namespace

std::string Zone::day(std::int64_t utc_ms) const {
  const auto c = civil(utc_ms + offset_ms(utc_ms));
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(c.date.year()),
                static_cast<unsigned>(c.date.month()), static_cast<unsigned>(c.date.day()));
  return out;
}

std::string Zone::format(std::int64_t utc_ms) const {
  const auto c = civil(utc_ms + offset_ms(utc_ms));
  const auto minutes = c.ms_of_day / 60000;
  char out[24];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u %02d:%02d", static_cast<int>(c.date.year()),
                static_cast<unsigned>(c.date.month()), static_cast<unsigned>(c.date.day()),
                static_cast<int>(minutes / 60), static_cast<int>(minutes % 60));
  return std::string(out) + " " + name_;
}

std::int64_t Zone::at(std::string_view day, int days_after, int minutes) const {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (day.size() != 10 || std::sscanf(std::string(day).c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return 0;
  const year_month_day date{year(y), month(m), std::chrono::day(d)};
  if (!date.ok()) return 0;
  const auto local_ms = duration_cast<milliseconds>((sys_days(date) + days(days_after)).time_since_epoch()).count() +
                        static_cast<std::int64_t>(minutes) * 60000;
  // The offset at the local time read as UTC, then at the instant that gives: right except within a jump.
  auto utc = local_ms - offset_ms(local_ms);
  utc = local_ms - offset_ms(utc);
  return utc;
}

}  // namespace leadrelay::notify
