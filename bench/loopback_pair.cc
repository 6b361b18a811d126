#include "bench/loopback_pair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/stop_signal.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string Errno(const char* what) { return absl::StrCat(what, ": ", strerrorname_np(errno)); }

// {client, server} connected over 127.0.0.1, or an error text.
std::pair<std::pair<int, int>, std::string> ConnectedPair() {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string e = Errno("listen");
    close(listener);
    return {{-1, -1}, e};
  }
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(client, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::string e = Errno("connect");
    close(client);
    close(listener);
    return {{-1, -1}, e};
  }
  int server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  std::string e = server < 0 ? Errno("accept") : "";
  close(listener);
  if (server < 0) {
    close(client);
    return {{-1, -1}, e};
  }
  int one = 1;
  timeval tv{5, 0};  // a stalled redirect becomes an error, not a hang
  for (int fd : {client, server}) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  return {{client, server}, ""};
}

// Writer streams a byte pattern for `seconds`; the reader checks every byte and stops
// once it has everything that was sent. Throughput is bytes over the reader's time.
std::string Bulk(int from, int to, double seconds, double* mib_per_s) {
  constexpr size_t kChunk = 64 << 10;
  std::vector<uint8_t> pattern(kChunk + 251);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i % 251);
  std::atomic<uint64_t> total_sent{UINT64_MAX};
  std::string writer_error;
  const auto start = Clock::now();
  std::thread writer([&] {
    const auto end = start + std::chrono::duration<double>(seconds);
    uint64_t sent = 0;
    while (Clock::now() < end && !StopRequested()) {
      ssize_t w = send(from, pattern.data() + sent % 251, kChunk, MSG_NOSIGNAL);
      if (w <= 0) {
        writer_error = Errno("bulk send");
        break;
      }
      sent += static_cast<uint64_t>(w);
    }
    total_sent = sent;
  });
  std::vector<uint8_t> buf(kChunk);
  uint64_t received = 0;
  bool intact = true;
  std::string error;
  const auto deadline = start + std::chrono::duration<double>(seconds + 5.0);
  while (received < total_sent.load()) {
    // Wait in short slices: once the reader has drained everything, the writer may
    // still be about to publish its total, and a blocking recv() would then sit out
    // the whole receive timeout for bytes that are never coming.
    pollfd p = {to, POLLIN, 0};
    int ready = poll(&p, 1, 50);
    if (ready == 0) {
      if (Clock::now() > deadline) {
        error = "bulk recv: no data for too long";
        break;
      }
      continue;
    }
    ssize_t r = recv(to, buf.data(), buf.size(), 0);
    if (r <= 0) {
      error = r == 0 ? "bulk recv: EOF" : Errno("bulk recv");
      break;
    }
    intact = intact &&
             std::memcmp(buf.data(), pattern.data() + received % 251, static_cast<size_t>(r)) == 0;
    received += static_cast<uint64_t>(r);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  writer.join();
  if (!writer_error.empty()) return writer_error;
  if (!error.empty()) return error;
  if (!intact) return "bulk: stream corrupted";
  if (received != total_sent.load()) return "bulk: received more than was sent";
  *mib_per_s = static_cast<double>(received) / (1 << 20) / secs;
  return "";
}

// One byte each way per round trip; the server thread echoes until the client closes.
std::string RequestResponse(int client, int server, const LoopbackPairSpec& spec,
                            LoopbackPairResult* result) {
  std::thread echo([server] {
    char c;
    while (recv(server, &c, 1, 0) == 1) {
      if (send(server, &c, 1, MSG_NOSIGNAL) != 1) break;
    }
  });
  std::vector<double> rtt_us;
  rtt_us.reserve(static_cast<size_t>(spec.max_round_trips));
  std::string error;
  const auto end = Clock::now() + std::chrono::duration<double>(spec.rr_seconds);
  for (int i = 0; i < spec.max_round_trips && !StopRequested(); ++i) {
    const auto t0 = Clock::now();
    if (t0 > end) break;
    char c = static_cast<char>(i), back = 0;
    if (send(client, &c, 1, MSG_NOSIGNAL) != 1 || recv(client, &back, 1, 0) != 1) {
      error = Errno("request/response");
      break;
    }
    if (back != c) {
      error = "request/response: wrong byte back";
      break;
    }
    rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  shutdown(client, SHUT_WR);
  shutdown(server, SHUT_RD);  // the echo thread's recv returns even if EOF got lost
  echo.join();
  if (!error.empty()) return error;
  if (rtt_us.empty()) return "request/response: no round trip completed";
  std::sort(rtt_us.begin(), rtt_us.end());
  result->round_trips = static_cast<int>(rtt_us.size());
  result->rr_p50_us = rtt_us[rtt_us.size() / 2];
  result->rr_p99_us = rtt_us[std::min(rtt_us.size() - 1, rtt_us.size() * 99 / 100)];
  return "";
}

}  // namespace

LoopbackPairResult RunLoopbackPair(const LoopbackPairSpec& spec) {
  LoopbackPairResult result;
  auto [fds, error] = ConnectedPair();
  if (!error.empty()) {
    result.error = error;
    return result;
  }
  auto [client, server] = fds;
  result.error = Bulk(client, server, spec.bulk_seconds, &result.bulk_mib_per_s);
  if (result.error.empty()) result.error = RequestResponse(client, server, spec, &result);
  if (result.error.empty() && StopRequested()) result.error = "interrupted";
  close(client);
  close(server);
  return result;
}

std::string EncodeLoopbackPair(const LoopbackPairResult& r) {
  return absl::StrCat(r.bulk_mib_per_s, " ", r.round_trips, " ", r.rr_p50_us, " ", r.rr_p99_us, " ",
                      r.error);
}

absl::StatusOr<LoopbackPairResult> DecodeLoopbackPair(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(' ', 4));
  LoopbackPairResult r;
  if (parts.size() < 4 || !absl::SimpleAtod(parts[0], &r.bulk_mib_per_s) ||
      !absl::SimpleAtoi(parts[1], &r.round_trips) || !absl::SimpleAtod(parts[2], &r.rr_p50_us) ||
      !absl::SimpleAtod(parts[3], &r.rr_p99_us)) {
    return absl::InternalError(absl::StrCat("unreadable pod result: '", text, "'"));
  }
  if (parts.size() == 5) r.error = parts[4];
  return r;
}

}  // namespace weft::bench
