// Watches every frame on one interface of a network namespace (an AF_PACKET socket on a
// thread of its own that entered the namespace) and keeps what the mesh tests assert on:
// whether a byte pattern ever crossed the wire in clear, and which TCP ports were seen.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace weft::ztunnel::testing {

struct WireSummary {
  uint64_t frames = 0;
  uint64_t bytes = 0;
  uint64_t frames_with_pattern = 0;
  uint64_t tcp_frames_port_15008 = 0;  // source or destination 15008 (HBONE)
  uint64_t tcp_frames_dst_8080 = 0;
  uint64_t tcp_frames_src_8080 = 0;
  uint64_t kernel_drops = 0;  // PACKET_STATISTICS: frames the socket could not keep up with
};

class WireCapture {
 public:
  // Starts capturing on `interface` inside /run/netns/`netns`; returns once the socket is
  // bound, so traffic sent after Start() returns is seen.
  static absl::StatusOr<std::unique_ptr<WireCapture>> Start(const std::string& netns,
                                                            const std::string& interface,
                                                            const std::string& pattern);
  ~WireCapture();
  WireCapture(const WireCapture&) = delete;
  WireCapture& operator=(const WireCapture&) = delete;

  // Stops the capture thread and returns what it saw.
  WireSummary Stop();

 private:
  WireCapture(int fd, std::string pattern) : fd_(fd), pattern_(std::move(pattern)) {}
  void Run();
  void Inspect(const unsigned char* frame, size_t size);

  int fd_;
  std::string pattern_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  WireSummary summary_;
};

}  // namespace weft::ztunnel::testing
