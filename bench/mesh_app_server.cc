// The server side of the benchmark application (see mesh_app_protocol.h): one epoll loop,
// so a thousand idle connections cost the server pod nothing but their sockets, while the
// one busy connection (bulk or request/response) is served without a thread hop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/mesh_app_protocol.h"
#include "bench/mesh_pod_process.h"

namespace weft::bench {
namespace {

constexpr size_t kReadChunk = 256 << 10;
constexpr size_t kMaxCommandLine = 128;
constexpr int kWriteTimeoutMs = 5000;

enum class Phase { kCommand, kBulk, kEcho, kHold };

struct Connection {
  Phase phase = Phase::kCommand;
  std::string line;
  std::string peer;
  uint64_t bulk_left = 0;
  uint64_t bulk_offset = 0;
  bool corrupt = false;
};

std::string PeerOf(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown";
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
  return absl::StrCat(ip, ":", ntohs(addr.sin_port));
}

// The sockets are non-blocking; small writes (replies, 1 KiB echoes) wait for room here
// rather than being queued, which keeps the loop free of write buffers.
bool SendAll(int fd, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::send(fd, data + done, size - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, kWriteTimeoutMs) > 0) continue;
    }
    return false;
  }
  return true;
}

bool SendLine(int fd, const std::string& line) {
  const std::string data = line + "\n";
  return SendAll(fd, data.data(), data.size());
}

// A command line is complete: switch the connection's phase. False closes it.
bool StartPhase(int fd, Connection& c) {
  uint64_t bytes = 0;
  if (c.line.rfind("bulk ", 0) == 0 && absl::SimpleAtoi(c.line.substr(5), &bytes)) {
    c.phase = Phase::kBulk;
    c.bulk_left = bytes;
  } else if (c.line == "rr") {
    c.phase = Phase::kEcho;
  } else if (c.line == "hold") {
    c.phase = Phase::kHold;
  } else {
    return false;
  }
  if (!SendLine(fd, "ok " + c.peer)) return false;
  return c.phase != Phase::kBulk || bytes > 0 || SendLine(fd, "got");
}

// Consumes `data` for connection `c`. False closes the connection.
bool Consume(int fd, Connection& c, const uint8_t* data, size_t size,
             const std::vector<uint8_t>& pattern) {
  size_t at = 0;
  while (at < size && c.phase == Phase::kCommand) {
    char ch = static_cast<char>(data[at++]);
    if (ch == '\n') {
      if (!StartPhase(fd, c)) return false;
    } else if (c.line.size() < kMaxCommandLine) {
      c.line.push_back(ch);
    } else {
      return false;
    }
  }
  if (at == size) return true;
  switch (c.phase) {
    case Phase::kBulk: {
      size_t n = size - at;
      if (n > c.bulk_left) return false;  // more than announced: a protocol error
      c.corrupt = c.corrupt ||
                  std::memcmp(data + at, pattern.data() + c.bulk_offset % kPatternPeriod, n) != 0;
      c.bulk_offset += n;
      c.bulk_left -= n;
      if (c.bulk_left == 0) return SendLine(fd, c.corrupt ? "corrupt" : "got");
      return true;
    }
    case Phase::kEcho:
      return SendAll(fd, reinterpret_cast<const char*>(data + at), size - at);
    case Phase::kHold:
    case Phase::kCommand:
      return true;
  }
  return true;
}

int ListenOn(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 4096) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int RunAppServer(int channel, uint16_t port) {
  int listener = ListenOn(port);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (listener < 0 || ep < 0) {
    WriteChannelLine(channel, absl::StrCat("listen on port ", port, ": ", strerror(errno)));
    return 1;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = channel;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, channel, &ev);
  ev.data.fd = listener;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  if (!WriteChannelLine(channel, "ready")) return 1;

  std::vector<uint8_t> pattern(kReadChunk + kPatternPeriod);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = PatternByte(i);
  std::vector<uint8_t> buf(kReadChunk);
  std::map<int, Connection> connections;
  std::vector<epoll_event> events(256);
  while (true) {
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == channel) return 0;  // the benchmark closed the channel (or wrote: stop)
      if (fd == listener) {
        int conn;
        while ((conn = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          int one = 1;
          ::setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = conn;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, conn, &cev);
          connections[conn].peer = PeerOf(conn);
        }
        continue;
      }
      auto it = connections.find(fd);
      if (it == connections.end()) continue;
      ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0 || !Consume(fd, it->second, buf.data(), static_cast<size_t>(r), pattern)) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        connections.erase(it);
      }
    }
  }
}

}  // namespace weft::bench
