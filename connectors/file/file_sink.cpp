#include "connectors/file/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace leadrelay::connectors::file {

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileSink::open(std::string& error) {
  if (fd_ >= 0) return true;
  std::error_code ec;
  std::filesystem::create_directories(options_.path.parent_path(), ec);
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    error = "cannot open " + options_.path.string() + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return true;
}

bool FileSink::rotate(std::string& error) {
  ::close(fd_);
  fd_ = -1;
  const auto name = [this](int n) { return options_.path.string() + "." + std::to_string(n); };
  std::error_code ec;
  if (options_.keep == 0) {
    std::filesystem::remove(options_.path, ec);
  } else {
    std::filesystem::remove(name(options_.keep), ec);
    for (int n = options_.keep - 1; n >= 1; --n) {
      if (std::filesystem::exists(name(n))) std::filesystem::rename(name(n), name(n + 1), ec);
    }
    std::filesystem::rename(options_.path, name(1), ec);
    if (ec) {
      error = "cannot rotate " + options_.path.string() + ": " + ec.message();
      return false;
    }
  }
  return open(error);
}

DeliveryResult FileSink::deliver(const DeliveryItem& item) {
  std::string error;
  if (!open(error)) return {DeliveryResult::Status::Retry, error, {}};
  const auto line_size = item.lead_json.size() + 1;
  if (size_ > 0 && size_ + line_size > options_.max_bytes && !rotate(error)) {
    return {DeliveryResult::Status::Retry, error, {}};
  }
  std::string line = item.lead_json;
  line += '\n';
  std::size_t written = 0;
  while (written < line.size()) {
    const auto n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A partial line would corrupt the file for readers: cut it off again (disk full, I/O error).
      const auto saved = errno;
      if (written > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        ::close(fd_);
        fd_ = -1;
      }
      return {DeliveryResult::Status::Retry, "cannot write " + options_.path.string() + ": " + std::strerror(saved), {}};
    }
    written += static_cast<std::size_t>(n);
  }
  if (options_.fsync && ::fdatasync(fd_) != 0) {
    return {DeliveryResult::Status::Retry, "cannot fsync " + options_.path.string() + ": " + std::strerror(errno), {}};
  }
  size_ += line.size();
  return {};
}

}  // namespace leadrelay::connectors::file
