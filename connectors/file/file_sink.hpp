#pragma once
// type: file. Appends each lead as one JSON line; rotates by size (path → path.1 → path.2 ...); with fsync on, a
// lead counts as delivered only once it is on disk.
#include <cstdio>

#include "connectors/file/file_config.hpp"
#include "connectors/sinks/sink.hpp"

namespace leadrelay::connectors::file {

class FileSink final : public Sink {
 public:
  explicit FileSink(const FileOptions& options) : options_(options) {}
  ~FileSink() override;
  DeliveryResult deliver(const DeliveryItem& item) override;

 private:
  bool open(std::string& error);
  bool rotate(std::string& error);

  FileOptions options_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace leadrelay::connectors::file
