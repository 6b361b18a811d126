// weft-ztunnel's command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log/logger.h"

namespace weft::ztunnel {

struct ZtunnelOptions {
  std::string node;
  std::string node_api_socket;
  std::string netns_socket;
  std::string admin_addr;
  std::string access_log;
  int64_t workers = 0;  // 0: one per online CPU
  int64_t mark = 1337;
  absl::Duration cert_ttl = absl::Hours(24);
  absl::Duration drain_timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration pool_idle_timeout = absl::Seconds(60);
  int64_t max_streams_per_connection = 100;
  int64_t stream_window = 4 << 20;
  int64_t connection_window = 16 << 20;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  bool help = false;
  std::string usage;
};

// Parses and checks the flags; errors name the flag.
absl::StatusOr<ZtunnelOptions> ParseZtunnelOptions(const std::vector<std::string>& args);

}  // namespace weft::ztunnel
