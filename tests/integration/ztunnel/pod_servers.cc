#include "tests/integration/ztunnel/pod_servers.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "tests/integration/ztunnel/child_sockets.h"
#include "tests/integration/ztunnel/payload_stream.h"

namespace weft::ztunnel::testing {
namespace {

constexpr int kAcceptTimeoutMs = 60'000;

// Reads everything up to EOF, comparing it with the expected stream as it arrives.
void CompareUntilEof(int conn, uint64_t seed, uint64_t* bytes, int64_t* mismatch) {
  PayloadStream expected(seed);
  std::vector<char> got(256 * 1024);
  std::vector<char> want(got.size());
  *bytes = 0;
  *mismatch = -1;
  while (true) {
    pollfd p{conn, POLLIN, 0};
    if (::poll(&p, 1, kAcceptTimeoutMs) != 1) return;  // stalled: reported as short
    ssize_t n = ::recv(conn, got.data(), got.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    expected.Next(want.data(), static_cast<size_t>(n));
    if (*mismatch < 0) {
      for (ssize_t i = 0; i < n; ++i) {
        if (got[i] != want[i]) {
          *mismatch = static_cast<int64_t>(*bytes) + i;
          break;
        }
      }
    }
    *bytes += static_cast<uint64_t>(n);
  }
}

}  // namespace

int RunBulkReceiver(int channel, uint16_t port, uint64_t seed) {
  int listener = ListenTcp(port);
  if (listener < 0 || !WriteAll(channel, "ready\n")) return 1;
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, kAcceptTimeoutMs) != 1)
    return WriteAll(channel, "received 0 -1 none\n") ? 0 : 1;
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  int conn = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
  if (conn < 0) return 1;
  uint64_t bytes = 0;
  int64_t mismatch = -1;
  CompareUntilEof(conn, seed, &bytes, &mismatch);
  WriteAll(conn, "done " + std::to_string(bytes) + "\n");
  ::close(conn);
  std::string report = "received " + std::to_string(bytes) + " " + std::to_string(mismatch) + " " +
                       FormatAddress(peer) + "\n";
  if (!WriteAll(channel, report)) return 1;
  ReadLineFrom(channel, 24 * 3600 * 1000);  // stay until the test closes the channel
  return 0;
}

int RunNamedServer(int channel, std::string name, std::vector<uint16_t> ports) {
  std::vector<pollfd> fds = {{channel, POLLIN, 0}};
  for (uint16_t port : ports) {
    int listener = ListenTcp(port);
    if (listener < 0) return 1;
    fds.push_back({listener, POLLIN, 0});
  }
  if (!WriteAll(channel, "ready\n")) return 1;
  uint64_t accepted = 0;
  while (true) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[0].revents != 0) {
      std::string error;
      std::optional<std::string> command = ReadLineFrom(channel, 1000, &error);
      if (!command.has_value()) return 0;  // the test closed the channel
      if (*command == "count" && !WriteAll(channel, "count " + std::to_string(accepted) + "\n")) {
        return 1;
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      int conn = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      ++accepted;
      WriteAll(conn, name + "\n");
      ::close(conn);
    }
  }
}

int RunEpollEchoServer(int channel, uint16_t port) {
  RaiseFileLimit();
  int listener = ListenTcp(port, /*backlog=*/4096);
  int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (listener < 0 || epoll < 0) return 1;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = channel;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, channel, &ev);
  ev.data.fd = listener;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &ev);
  if (!WriteAll(channel, "ready\n")) return 1;
  uint64_t accepted = 0;
  uint64_t open = 0;
  std::vector<epoll_event> events(1024);
  char buffer[4096];
  while (true) {
    int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == channel) {
        std::optional<std::string> command = ReadLineFrom(channel, 1000);
        if (!command.has_value()) return 0;
        if (*command == "stats" && !WriteAll(channel, "stats " + std::to_string(accepted) + " " +
                                                          std::to_string(open) + "\n")) {
          return 1;
        }
      } else if (fd == listener) {
        int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) continue;
        ++accepted;
        ++open;
        epoll_event conn_ev{};
        conn_ev.events = EPOLLIN | EPOLLRDHUP;
        conn_ev.data.fd = conn;
        ::epoll_ctl(epoll, EPOLL_CTL_ADD, conn, &conn_ev);
      } else {
        // Messages are a few bytes, so a send never blocks on a healthy connection.
        ssize_t got = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got <= 0 || !WriteAll(fd, buffer, static_cast<size_t>(got))) {
          ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
          ::close(fd);
          --open;
        }
      }
    }
  }
}

}  // namespace weft::ztunnel::testing
