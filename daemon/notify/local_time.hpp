#pragma once
// Days and wall-clock times in notifications.timezone (an IANA name such as Europe/Berlin), from ICU's time-zone
// data: which day a lead arrived on there, and when "08:00 the next morning" is in UTC, daylight saving included.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace leadrelay::notify {

class Zone {
 public:
  // Null with a message when ICU does not know `name`.
  static std::shared_ptr<const Zone> open(std::string_view name, std::string& error);
  ~Zone();

  const std::string& name() const { return name_; }
  // The local day of an instant, YYYY-MM-DD.
  std::string day(std::int64_t utc_ms) const;
  // "2026-12-01 09:30 Europe/Berlin"
  std::string format(std::int64_t utc_ms) const;
  // The instant of `minutes` past local midnight, `days_after` days after `day` (YYYY-MM-DD); 0 when `day` is not
  // a date. A wall time that a daylight-saving jump skips is read as the instant after the jump.
  std::int64_t at(std::string_view day, int days_after, int minutes) const;

 private:
  struct Impl;
  Zone(std::string name, std::unique_ptr<Impl> impl);
  std::int64_t offset_ms(std::int64_t utc_ms) const;
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leadrelay::notify
