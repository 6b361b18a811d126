// The client side of the benchmark application (see mesh_app_protocol.h). It runs in a
// forked child placed as the client pod, so what its connect() does depends only on where
// it was placed: captured into the mesh, or straight to the server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/mesh_app_protocol.h"
#include "bench/mesh_pod_process.h"
#include "bench/stop_signal.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Long enough for the first mesh connection after enrollment (certificate issuance,
// HBONE pool connection), short enough that a stalled path fails the round, not the run.
constexpr int kIoTimeoutS = 10;
constexpr size_t kBulkChunk = 256 << 10;

std::string Errno(const std::string& what) {
  return absl::StrCat(what, ": ", strerrorname_np(errno));
}

// A connected, handshaken socket: the server's "ok <peer>" has arrived.
struct Opened {
  int fd = -1;
  std::string server_saw;
  std::string error;
};

bool RecvLine(int fd, std::string* line) {
  line->clear();
  while (line->size() < 256) {
    char c;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR && !StopRequested()) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
  return false;
}

bool SendAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR && !StopRequested()) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool RecvAll(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::recv(fd, p, size, 0);
    if (n < 0 && errno == EINTR && !StopRequested()) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

Opened Open(const std::string& ip, int port, const std::string& command) {
  Opened o;
  o.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (o.fd < 0) {
    o.error = Errno("socket");
    return o;
  }
  int one = 1;
  timeval tv{kIoTimeoutS, 0};
  ::setsockopt(o.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(o.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(o.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  std::string line = command + "\n";
  std::string reply;
  if (::connect(o.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    o.error = Errno("connect");
  } else if (!SendAll(o.fd, line.data(), line.size())) {
    o.error = Errno("send command");
  } else if (!RecvLine(o.fd, &reply)) {
    o.error = errno == 0 ? "handshake: EOF" : Errno("handshake");
  } else if (reply.rfind("ok ", 0) != 0) {
    o.error = "handshake: server said '" + reply + "'";
  } else {
    o.server_saw = reply.substr(3);
    return o;
  }
  ::close(o.fd);
  o.fd = -1;
  return o;
}

std::string Bulk(const std::string& ip, int port, uint64_t bytes) {
  errno = 0;
  Opened o = Open(ip, port, absl::StrCat("bulk ", bytes));
  if (o.fd < 0) return "err " + o.error;
  std::vector<uint8_t> pattern(kBulkChunk + kPatternPeriod);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = PatternByte(i);
  const auto start = Clock::now();
  uint64_t sent = 0;
  std::string error;
  while (sent < bytes && error.empty()) {
    if (StopRequested()) error = "interrupted";
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBulkChunk, bytes - sent));
    if (error.empty() && !SendAll(o.fd, pattern.data() + sent % kPatternPeriod, n)) {
      error = Errno("bulk send");
    }
    sent += n;
  }
  std::string reply;
  if (error.empty() && !RecvLine(o.fd, &reply)) error = Errno("bulk: waiting for the server");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(o.fd);
  if (!error.empty()) return "err " + error;
  if (reply != "got") return "err bulk: server said '" + reply + "'";
  return absl::StrCat("bulk ", seconds, " ", bytes, " ", o.server_saw);
}

std::string RequestResponse(const std::string& ip, int port, size_t size, int warmup, int count) {
  errno = 0;
  Opened o = Open(ip, port, "rr");
  if (o.fd < 0) return "err " + o.error;
  std::vector<uint8_t> request(size), response(size);
  for (size_t i = 0; i < size; ++i) request[i] = PatternByte(i);
  std::vector<double> rtt_us;
  rtt_us.reserve(static_cast<size_t>(count));
  std::string error;
  Clock::time_point timed_start;
  for (int i = -warmup; i < count && error.empty(); ++i) {
    if (i == 0) timed_start = Clock::now();
    if (StopRequested()) error = "interrupted";
    request[0] = static_cast<uint8_t>(i);  // a stale echo cannot pass for this one
    const auto t0 = Clock::now();
    if (error.empty() &&
        (!SendAll(o.fd, request.data(), size) || !RecvAll(o.fd, response.data(), size))) {
      error = Errno("request/response");
    } else if (error.empty() && response != request) {
      error = "request/response: wrong bytes back";
    } else if (error.empty() && i >= 0) {
      rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - timed_start).count();
  ::close(o.fd);
  if (!error.empty()) return "err " + error;
  std::sort(rtt_us.begin(), rtt_us.end());
  const size_t n = rtt_us.size();
  return absl::StrCat("rr ", n, " ", rtt_us[n / 2], " ", rtt_us[std::min(n - 1, n * 99 / 100)], " ",
                      static_cast<double>(n) / seconds, " ", o.server_saw);
}

std::string Hold(const std::string& ip, int port, int count, std::vector<int>& held) {
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    if (StopRequested()) return "err interrupted";
    errno = 0;
    Opened o = Open(ip, port, "hold");
    if (o.fd < 0) return absl::StrCat("err connection ", held.size() + 1, ": ", o.error);
    held.push_back(o.fd);
  }
  return absl::StrCat("held ", held.size(), " ",
                      std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace

int RunAppClient(int channel) {
  if (!WriteChannelLine(channel, "ready")) return 1;
  std::vector<int> held;
  std::string line;
  while (ReadChannelLine(channel, &line)) {
    std::istringstream in(line);
    std::string cmd, ip;
    int port = 0;
    in >> cmd;
    std::string reply = "err unknown command '" + line + "'";
    if (cmd == "bulk") {
      uint64_t bytes = 0;
      in >> ip >> port >> bytes;
      reply = Bulk(ip, port, bytes);
    } else if (cmd == "rr") {
      size_t size = 0;
      int warmup = 0, count = 0;
      in >> ip >> port >> size >> warmup >> count;
      reply = size > 0 && count > 0 ? RequestResponse(ip, port, size, warmup, count)
                                    : "err rr: bad arguments";
    } else if (cmd == "hold") {
      int count = 0;
      in >> ip >> port >> count;
      reply = Hold(ip, port, count, held);
    } else if (cmd == "release") {
      for (int fd : held) ::close(fd);
      reply = absl::StrCat("released ", held.size());
      held.clear();
    }
    if (!WriteChannelLine(channel, reply)) return 1;
  }
  return 0;
}

namespace {

// Splits a reply into its words after checking the leading `tag`; errors carry the text.
absl::StatusOr<std::vector<std::string>> Words(const std::string& line, const std::string& tag,
                                               size_t want) {
  if (line.rfind("err ", 0) == 0) return absl::UnavailableError(line.substr(4));
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.size() != want || words[0] != tag) {
    return absl::InternalError(absl::StrCat("unreadable client reply: '", line, "'"));
  }
  return words;
}

}  // namespace

absl::StatusOr<BulkReply> ParseBulkReply(const std::string& line) {
  absl::StatusOr<std::vector<std::string>> w = Words(line, "bulk", 4);
  if (!w.ok()) return w.status();
  BulkReply r;
  if (!absl::SimpleAtod((*w)[1], &r.seconds) || !absl::SimpleAtoi((*w)[2], &r.bytes) ||
      r.seconds <= 0) {
    return absl::InternalError(absl::StrCat("unreadable bulk reply: '", line, "'"));
  }
  r.server_saw = (*w)[3];
  return r;
}

absl::StatusOr<RequestResponseReply> ParseRequestResponseReply(const std::string& line) {
  absl::StatusOr<std::vector<std::string>> w = Words(line, "rr", 6);
  if (!w.ok()) return w.status();
  RequestResponseReply r;
  if (!absl::SimpleAtoi((*w)[1], &r.round_trips) || !absl::SimpleAtod((*w)[2], &r.p50_us) ||
      !absl::SimpleAtod((*w)[3], &r.p99_us) || !absl::SimpleAtod((*w)[4], &r.per_second)) {
    return absl::InternalError(absl::StrCat("unreadable rr reply: '", line, "'"));
  }
  r.server_saw = (*w)[5];
  return r;
}

absl::StatusOr<HoldReply> ParseHoldReply(const std::string& line) {
  absl::StatusOr<std::vector<std::string>> w = Words(line, "held", 3);
  if (!w.ok()) return w.status();
  HoldReply r;
  if (!absl::SimpleAtoi((*w)[1], &r.held) || !absl::SimpleAtod((*w)[2], &r.seconds)) {
    return absl::InternalError(absl::StrCat("unreadable hold reply: '", line, "'"));
  }
  return r;
}

}  // namespace weft::bench
