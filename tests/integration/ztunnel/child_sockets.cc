#include "tests/integration/ztunnel/child_sockets.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace weft::ztunnel::testing {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

}  // namespace

sockaddr_in Ipv4Address(const std::string& ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  return address;
}

std::string FormatAddress(const sockaddr_in& address) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &address.sin_addr, ip, sizeof(ip));
  return std::string(ip) + ":" + std::to_string(ntohs(address.sin_port));
}

int ListenTcp(uint16_t port, int backlog) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address = Ipv4Address("0.0.0.0", port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, backlog) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int ConnectTcp(const std::string& ip, uint16_t port, int timeout_ms, std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = std::to_string(errno);
    return -1;
  }
  sockaddr_in address = Ipv4Address(ip, port);
  int soerr = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    soerr = errno;
    if (soerr == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      socklen_t len = sizeof(soerr);
      if (::poll(&p, 1, timeout_ms) != 1) {
        soerr = ETIMEDOUT;
      } else {
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
      }
    }
  }
  if (soerr != 0) {
    *error = std::to_string(soerr);
    ::close(fd);
    return -1;
  }
  int flags = 0;  // back to blocking: callers bound their reads with poll
  ::ioctl(fd, FIONBIO, &flags);
  return fd;
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::send(fd, bytes + done, size - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> ReadLineFrom(int fd, int timeout_ms, std::string* error) {
  std::string ignored;
  std::string& why = error != nullptr ? *error : ignored;
  Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string line;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int left = MillisLeft(deadline);
    if (left <= 0 || ::poll(&p, 1, left) == 0) {
      why = "timeout";
      return std::nullopt;
    }
    char c = 0;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::to_string(errno);
      return std::nullopt;
    }
    if (n == 0) {
      why = "eof";
      return std::nullopt;
    }
    if (c == '\n') return line;
    line.push_back(c);
  }
}

uint64_t RaiseFileLimit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  ::getrlimit(RLIMIT_NOFILE, &files);
  return files.rlim_cur;
}

}  // namespace weft::ztunnel::testing
