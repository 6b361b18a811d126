#include "bench/connect_cycles.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/stop_signal.h"
#include "tests/bpf/capture/capture_test_env.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Client sockets end in TIME_WAIT; the default range would run dry over a long run.
void WidenLocalPortRange() {
  int fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)!write(fd, "1024 65000", 10);
  close(fd);
}

}  // namespace

ConnectCycleResult RunConnectCycles(const ConnectCycleSpec& spec) {
  WidenLocalPortRange();
  ConnectCycleResult r;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(spec.max_seconds);
  for (int i = 0; i < spec.count; ++i) {
    if (StopRequested() || Clock::now() > deadline) {
      r.failed += spec.count - i;
      if (r.first_error.empty()) {
        r.first_error = StopRequested() ? "interrupted" : "time limit reached";
      }
      break;
    }
    ++r.attempted;
    uint16_t port =
        static_cast<uint16_t>(spec.base_port + (spec.port_spread > 1 ? i % spec.port_spread : 0));
    socklen_t len;
    sockaddr_storage dst = capture_test::Endpoint(spec.ip, port, &len);
    int s = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{2, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char buf[128];
    const char* step = nullptr;
    errno = 0;
    if (connect(s, reinterpret_cast<sockaddr*>(&dst), len) != 0) {
      step = "connect";
    } else if (read(s, buf, sizeof(buf)) <= 0) {
      step = "read greeting";
    }
    if (step != nullptr) {
      ++r.failed;
      if (r.first_error.empty()) {
        r.first_error = absl::StrCat(step, ": ", errno ? strerrorname_np(errno) : "EOF");
      }
    }
    close(s);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

std::string EncodeConnectCycles(const ConnectCycleResult& r) {
  return absl::StrCat(r.attempted, " ", r.failed, " ", r.seconds, " ", r.first_error);
}

absl::StatusOr<ConnectCycleResult> DecodeConnectCycles(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(' ', 3));
  ConnectCycleResult r;
  if (parts.size() < 3 || !absl::SimpleAtoi(parts[0], &r.attempted) ||
      !absl::SimpleAtoi(parts[1], &r.failed) || !absl::SimpleAtod(parts[2], &r.seconds)) {
    return absl::InternalError(absl::StrCat("unreadable pod result: '", text, "'"));
  }
  if (parts.size() == 4) r.first_error = parts[3];
  return r;
}

}  // namespace weft::bench
