// How the intake log's segments should be preallocated: rounds of one pwrite + one fdatasync (what the log writer
// does per batch) into a file preallocated with posix_fallocate, against one preallocated by writing zeros (what
// IntakeLog does). On ext4 and XFS fallocated space is an unwritten extent: the first write into each block converts
// it, and every fdatasync then commits that metadata change through the file system's journal.
//   log_sync_bench [--dir DIR] [--batch BYTES] [--mib MIB] [--runs N]
// Prints, per way and run, rounds per second and the CPU time (user + system) of a round. No figure is asserted.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

bool write_all(int fd, const char* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const auto n = ::pwrite(fd, data, size, offset);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}

// One way, one run: preallocate `bytes`, then write it in rounds of `batch` bytes, each followed by fdatasync.
bool run(const std::string& path, bool zeros, std::size_t batch, std::size_t bytes) {
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::perror(path.c_str()), false;
  bool ok = true;
  if (zeros) {
    const std::vector<char> zero(1u << 20, '\0');
    for (std::size_t at = 0; ok && at < bytes; at += zero.size()) {
      ok = write_all(fd, zero.data(), std::min(zero.size(), bytes - at), static_cast<off_t>(at));
    }
  } else {
    ok = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) == 0;
  }
  ok = ok && ::fsync(fd) == 0;
  const std::vector<char> record(batch, 'x');
  std::size_t rounds = 0;
  const double cpu_before = cpu_seconds();
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t at = 0; ok && at + batch <= bytes; at += batch, ++rounds) {
    ok = write_all(fd, record.data(), batch, static_cast<off_t>(at)) && ::fdatasync(fd) == 0;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double cpu = cpu_seconds() - cpu_before;
  ::close(fd);
  ::unlink(path.c_str());
  if (!ok) return std::perror("write"), false;
  std::printf("%-22s %zu rounds of %zu bytes: %8.0f rounds/s, %6.1f us CPU a round\n",
              zeros ? "written zeros" : "posix_fallocate", rounds, batch, rounds / seconds, cpu / rounds * 1e6);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = ".";
  std::size_t batch = 64 * 1024;
  std::size_t mib = 64;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--batch") {
      batch = std::strtoul(argv[i + 1], nullptr, 10);
    } else if (flag == "--mib") {
      mib = std::strtoul(argv[i + 1], nullptr, 10);
    } else if (flag == "--runs") {
      runs = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: log_sync_bench [--dir DIR] [--batch BYTES] [--mib MIB] [--runs N]\n");
      return 64;
    }
  }
  if (batch == 0 || mib == 0) return std::fprintf(stderr, "--batch and --mib must be positive\n"), 64;
  const auto path = dir + "/log_sync_bench.seg";
  for (int r = 0; r < runs; ++r) {
    if (!run(path, false, batch, mib << 20) || !run(path, true, batch, mib << 20)) return 1;
  }
  return 0;
}
