#include "tests/integration/ztunnel/pod_clients.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/ztunnel/child_sockets.h"
#include "tests/integration/ztunnel/payload_stream.h"

namespace weft::ztunnel::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kChannelWaitMs = 24 * 3600 * 1000;
constexpr size_t kMessageSize = 16;
constexpr size_t kConnectWindow = 256;
constexpr auto kRoundTimeout = std::chrono::seconds(30);

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::string SendBulk(const std::string& ip, uint16_t port, uint64_t bytes, uint64_t seed) {
  Clock::time_point start = Clock::now();
  std::string error;
  int fd = -1;
  // Refused until ztunnel has this pod's listeners; anything else is a real failure.
  while ((fd = ConnectTcp(ip, port, 2000, &error)) < 0 && MillisSince(start) < 10'000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (fd < 0) return "sent 0 err:connect_" + error + " " + std::to_string(MillisSince(start));
  PayloadStream stream(seed);
  std::vector<char> chunk(256 * 1024);
  uint64_t written = 0;
  while (written < bytes) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), bytes - written));
    stream.Next(chunk.data(), n);
    if (!WriteAll(fd, chunk.data(), n)) break;
    written += n;
  }
  ::shutdown(fd, SHUT_WR);
  std::optional<std::string> done = ReadLineFrom(fd, 30'000, &error);
  ::close(fd);
  std::string reply = done.has_value() ? *done : "err:" + error;
  for (char& c : reply) c = c == ' ' ? ':' : c;
  return "sent " + std::to_string(written) + " " + reply + " " + std::to_string(MillisSince(start));
}

// One connection of the swarm and where it is in its current round.
struct SwarmConnection {
  int fd = -1;
  bool connecting = false;
  bool awaiting = false;
  std::string message;
  std::string received;
};

class Swarm {
 public:
  Swarm() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {}

  std::string Open(int count, const std::string& ip, uint16_t port) {
    Clock::time_point start = Clock::now();
    ResetRound();
    const sockaddr_in address = Ipv4Address(ip, port);
    size_t next = 0;
    while ((next < static_cast<size_t>(count) || in_flight_ > 0) && !Expired(start)) {
      while (next < static_cast<size_t>(count) && in_flight_ < kConnectWindow) {
        StartConnect(address, next++);
      }
      Poll();
    }
    FailUnfinished("timeout");
    failed_ += static_cast<int>(count - next);  // never started: counted, not hidden
    return Report("opened", start);
  }

  std::string EchoAll() {
    Clock::time_point start = Clock::now();
    ResetRound();
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].fd >= 0) SendMessage(i);
    }
    while (in_flight_ > 0 && !Expired(start)) Poll();
    FailUnfinished("timeout");
    return Report("echoed", start);
  }

  std::string CloseAll() {
    int closed = 0;
    for (SwarmConnection& c : conns_) {
      if (c.fd < 0) continue;
      ::close(c.fd);
      c.fd = -1;
      ++closed;
    }
    return "closed " + std::to_string(closed);
  }

 private:
  static bool Expired(Clock::time_point start) { return Clock::now() - start > kRoundTimeout; }

  void ResetRound() {
    ok_ = 0;
    failed_ = 0;
    first_error_ = "-";
    failures_by_kind_.clear();
  }

  std::string Report(const std::string& what, Clock::time_point start) const {
    std::string kinds;
    for (const auto& [kind, count] : failures_by_kind_) {
      kinds += (kinds.empty() ? "" : ",") + kind + ":" + std::to_string(count);
    }
    return what + " " + std::to_string(ok_) + " " + std::to_string(failed_) + " " + first_error_ +
           " " + std::to_string(MillisSince(start)) + " " + (kinds.empty() ? "-" : kinds);
  }

  void Fail(size_t index, const std::string& why) {
    SwarmConnection& c = conns_[index];
    if (c.connecting || c.awaiting) --in_flight_;
    c.connecting = c.awaiting = false;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    ++failed_;
    ++failures_by_kind_[why.substr(0, why.find(':'))];
    if (first_error_ == "-") first_error_ = "#" + std::to_string(index) + ":" + why;
  }

  void FailUnfinished(const std::string& why) {
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].connecting || conns_[i].awaiting) Fail(i, why);
    }
  }

  void StartConnect(const sockaddr_in& address, size_t index) {
    if (conns_.size() <= index) conns_.resize(index + 1);
    SwarmConnection& c = conns_[index];
    char message[kMessageSize + 1];
    std::snprintf(message, sizeof(message), "conn-%09zu\n", index);
    c.message.assign(message, kMessageSize);
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c.fd < 0) {
      ++failed_;
      if (first_error_ == "-") first_error_ = "socket:" + std::to_string(errno);
      return;
    }
    c.connecting = true;
    ++in_flight_;
    int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    if (rc != 0 && errno != EINPROGRESS) {
      Fail(index, "connect:" + std::to_string(errno));
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = index;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void SendMessage(size_t index) {
    SwarmConnection& c = conns_[index];
    if (!c.connecting) ++in_flight_;
    c.connecting = false;
    c.awaiting = true;
    c.received.clear();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = index;
    if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    }
    if (::send(c.fd, c.message.data(), c.message.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(c.message.size())) {
      Fail(index, "send:" + std::to_string(errno));
    }
  }

  void OnEvent(size_t index) {
    SwarmConnection& c = conns_[index];
    if (c.fd < 0) return;
    if (c.connecting) {
      int soerr = 0;
      socklen_t len = sizeof(soerr);
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
      if (soerr != 0) return Fail(index, "connect:" + std::to_string(soerr));
      return SendMessage(index);
    }
    if (!c.awaiting) return;
    char buffer[64];
    ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return Fail(index, n == 0 ? "eof" : "recv:" + std::to_string(errno));
    c.received.append(buffer, static_cast<size_t>(n));
    if (c.received.size() < c.message.size()) return;
    if (c.received != c.message) return Fail(index, "garbled");
    c.awaiting = false;
    --in_flight_;
    ++ok_;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
  }

  void Poll() {
    epoll_event events[512];
    int n = ::epoll_wait(epoll_, events, 512, 100);
    for (int i = 0; i < n; ++i) OnEvent(static_cast<size_t>(events[i].data.u64));
  }

  int epoll_;
  std::vector<SwarmConnection> conns_;
  size_t in_flight_ = 0;
  int ok_ = 0;
  int failed_ = 0;
  std::string first_error_ = "-";
  std::map<std::string, int> failures_by_kind_;  // "timeout", "eof", "connect", ...
};

}  // namespace

int RunBulkSender(int channel) {
  while (true) {
    std::optional<std::string> line = ReadLineFrom(channel, kChannelWaitMs);
    if (!line.has_value()) return 0;
    std::istringstream in(*line);
    std::string command, ip;
    int port = 0;
    uint64_t bytes = 0, seed = 0;
    in >> command >> ip >> port >> bytes >> seed;
    std::string reply = command == "send" ? SendBulk(ip, static_cast<uint16_t>(port), bytes, seed)
                                          : "err unknown command " + command;
    if (!WriteAll(channel, reply + "\n")) return 1;
  }
}

int RunConnectionSwarm(int channel) {
  RaiseFileLimit();
  Swarm swarm;
  while (true) {
    std::optional<std::string> line = ReadLineFrom(channel, kChannelWaitMs);
    if (!line.has_value()) return 0;
    std::istringstream in(*line);
    std::string command, ip;
    int count = 0, port = 0;
    in >> command;
    std::string reply;
    if (command == "open") {
      in >> count >> ip >> port;
      reply = swarm.Open(count, ip, static_cast<uint16_t>(port));
    } else if (command == "echo") {
      reply = swarm.EchoAll();
    } else if (command == "close") {
      reply = swarm.CloseAll();
    } else {
      reply = "err unknown command " + command;
    }
    if (!WriteAll(channel, reply + "\n")) return 1;
  }
}

}  // namespace weft::ztunnel::testing
