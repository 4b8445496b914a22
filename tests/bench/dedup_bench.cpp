// Redelivery detection at scale: fills a journal with N replay keys (each append is a key lookup plus an insert,
// inside fsync'd group commits, as in the daemon), then, with all N in the window, times M appends with new keys
// and M redeliveries. Prints one line per figure, and the process's peak RSS.
//   dedup_bench [--keys N] [--probe M] [--dir DIR]      (defaults: 1000000, 100000, a temp dir that is kept)
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

#include "daemon/store/journal.hpp"
#include "daemon/model/lead_id.hpp"

namespace {
using namespace leadrelay;
using Clock = std::chrono::steady_clock;

struct Waiter {
  std::mutex mutex;
  std::condition_variable cv;
  std::int64_t done = 0;
  std::int64_t duplicates = 0;
  std::int64_t failures = 0;
};

std::int64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// Appends `count` entries with keys key_prefix+i, at most `window` in flight (like concurrent requests);
// returns the rate per second.
double run(store::Journal& j, std::int64_t count, const std::string& key_prefix, std::int64_t first, Waiter& w,
           std::int64_t now_ms) {
  constexpr std::int64_t kInFlight = 8000;
  const auto start = Clock::now();
  const std::string raw(200, 'x');
  std::int64_t target_done;
  {
    std::lock_guard lock(w.mutex);
    target_done = w.done + count;
  }
  for (std::int64_t i = 0; i < count; ++i) {
    {
      std::unique_lock lock(w.mutex);
      w.cv.wait(lock, [&] { return target_done - count + i - w.done < kInFlight; });
    }
    store::Entry e{model::new_lead_id(now_ms), "bench", now_ms, raw, "ms-marketplace",
                     key_prefix + std::to_string(first + i), now_ms + 86400000};
    j.append(std::move(e), [&w](store::AppendResult r) {
      std::lock_guard lock(w.mutex);
      ++w.done;
      if (r.status == store::AppendStatus::Duplicate) ++w.duplicates;
      if (r.status != store::AppendStatus::Committed && r.status != store::AppendStatus::Duplicate) ++w.failures;
      w.cv.notify_all();
    });
  }
  std::unique_lock lock(w.mutex);
  w.cv.wait(lock, [&] { return w.done >= target_done; });
  return static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t keys = 1000000;
  std::int64_t probe = 100000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("leadrelay-dedup-bench-" + std::to_string(getpid()));
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--keys") == 0) keys = std::stoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--probe") == 0) probe = std::stoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir / "state");
  std::string error;
  auto j = store::Journal::open(dir / "state", store::JournalConfig{}, error);
  if (!j) {
    std::fprintf(stderr, "dedup_bench: %s\n", error.c_str());
    return 1;
  }
  Waiter w;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const double fill = run(*j, keys, "bench|sha256:", 0, w, now);
  const double fresh = run(*j, probe, "bench|sha256:", keys, w, now);
  const double repeat = run(*j, probe, "bench|sha256:", 0, w, now);
  const auto stats = j->stats();
  j->stop();
  std::printf("dedup_bench: %lld keys in the window (state: %s)\n", static_cast<long long>(keys + probe),
              (dir / "state").c_str());
  std::printf("fill: %.0f lookup+insert/s (%lld leads in %llu fsync'd commits)\n", fill,
              static_cast<long long>(keys), static_cast<unsigned long long>(stats.commits));
  std::printf("new keys with %lld in the window: %.0f lookup+insert/s\n", static_cast<long long>(keys), fresh);
  std::printf("redeliveries with %lld in the window: %.0f lookups/s (%lld answered as duplicates)\n",
              static_cast<long long>(keys + probe), repeat, static_cast<long long>(w.duplicates));
  std::printf("peak RSS: %lld KiB; failures: %lld\n", static_cast<long long>(peak_rss_kib()),
              static_cast<long long>(w.failures));
  return w.failures == 0 && w.duplicates == probe ? 0 : 1;
}
