// Fuzz target: the intake log's reader (store/intake_log.hpp), which runs at every start over whatever a crash or a
// failing disk left. The first byte picks a mode. Raw: the input is a segment's bytes. Built: the input makes a
// segment of real records in several writes and then damages it as crashes and disks do (a torn tail, bit flips,
// zero-filled sectors). Either way the reader must not crash or read out of bounds, and what it keeps must be a
// prefix of what was written, record for record.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/store/intake_log.hpp"

namespace {
using namespace leadrelay::store;

struct Input {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() { return n > 0 ? (--n, *p++) : 0; }
  std::uint32_t u16() { return static_cast<std::uint32_t>(byte()) << 8 | byte(); }
};

void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.byte();
  const bool last = (mode & 1) != 0;
  std::vector<Entry> kept;
  const auto keep = [&](std::size_t, std::string_view payload) {
    Entry e;
    std::uint64_t start = 0;
    if (!intake_log::decode(payload, e, &start)) return false;
    kept.push_back(std::move(e));
    return true;
  };
  if ((mode & 2) == 0) {
    const std::string bytes(reinterpret_cast<const char*>(in.p), in.n);
    const auto r = intake_log::scan(bytes, last, keep);
    check(r.valid_end <= bytes.size() && r.records == kept.size());
    Entry e;
    (void)intake_log::check_and_decode(bytes, e);
    return 0;
  }
  // Built: up to 12 records in up to 4 writes, bodies and keys cut from the input.
  std::vector<Entry> written;
  std::vector<std::size_t> ends;  // where each record ends
  std::string bytes;
  const int records = 1 + in.byte() % 12;
  std::size_t write_start = 0;
  for (int i = 0; i < records; ++i) {
    if (i > 0 && in.byte() % 3 == 0) write_start = bytes.size();  // a new write begins here
    Entry e;
    e.lead_id = "lead-" + std::to_string(i);
    e.source = "fuzz";
    e.format = "ms-marketplace";
    e.received_at_ms = 1732320000000 + i;
    const auto body = std::min<std::size_t>(in.n, in.u16() % 2048);
    e.raw.assign(reinterpret_cast<const char*>(in.p), body);
    if (in.byte() & 1) e.replay_key = "fuzz|" + std::to_string(i);
    intake_log::encode(e, write_start, bytes);
    written.push_back(std::move(e));
    ends.push_back(bytes.size());
  }
  bytes.append(in.u16() % 4096, '\0');  // the preallocated zeros
  bool damaged = false;
  while (in.n > 0) {
    const auto op = in.byte() % 4;
    const auto at = bytes.empty() ? 0 : in.u16() * 7u % bytes.size();
    if (op == 0) {
      bytes.resize(at);  // a torn tail: nothing past `at` reached the disk
    } else if (op == 1 && !bytes.empty()) {
      bytes[at] = static_cast<char>(bytes[at] ^ (1u << (in.byte() % 8)));  // a bit flip
    } else if (op == 2) {
      for (std::size_t i = at / 512 * 512; i < std::min(bytes.size(), at / 512 * 512 + 512); ++i) bytes[i] = 0;
    }
    damaged = true;
  }
  const auto r = intake_log::scan(bytes, last, keep);
  check(r.valid_end <= bytes.size() && r.records == kept.size());
  if (!damaged) check(r.status == intake_log::ScanStatus::Clean && kept.size() == written.size());
  // What is kept is what was written, from the start, whole records only (a CRC-32C collision aside).
  check(kept.size() <= written.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    check(kept[i].lead_id == written[i].lead_id && kept[i].raw == written[i].raw &&
          kept[i].replay_key == written[i].replay_key);
  }
  if (r.status != intake_log::ScanStatus::Corrupt) check(r.valid_end == (kept.empty() ? 0 : ends[kept.size() - 1]));
  return 0;
}
