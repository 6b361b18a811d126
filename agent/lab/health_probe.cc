#include "agent/lab/health_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/lab/network_builder.h"

namespace weft::lab {
namespace {

absl::Status ProbeError(const std::string& admin_addr, absl::string_view what, int err = 0) {
  return absl::UnavailableError(absl::StrCat("GET http://", admin_addr, "/healthz: ", what,
                                             err != 0 ? ": " : "",
                                             err != 0 ? std::strerror(err) : ""));
}

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (ms <= 0) return false;
    pollfd p = {fd, events, 0};
    int rc = ::poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

absl::Status Exchange(int fd, const sockaddr_in& addr, const std::string& admin_addr,
                      absl::Time deadline) {
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    return ProbeError(admin_addr, "connect", errno);
  }
  if (!WaitFor(fd, POLLOUT, deadline)) return ProbeError(admin_addr, "connect timed out");
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return ProbeError(admin_addr, "connect", err);

  const std::string request =
      absl::StrCat("GET /healthz HTTP/1.0\r\nHost: ", admin_addr, "\r\nConnection: close\r\n\r\n");
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return ProbeError(admin_addr, "send", errno);
  }
  std::string response;
  char buf[512];
  while (response.find("\r\n") == std::string::npos && response.size() < 4096) {
    if (!WaitFor(fd, POLLIN, deadline)) return ProbeError(admin_addr, "no answer in time");
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ProbeError(admin_addr, "recv", errno);
    if (n == 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.x NNN reason"
  int code = 0;
  size_t space = response.find(' ');
  if (space == std::string::npos || response.size() < space + 4 ||
      !absl::SimpleAtoi(response.substr(space + 1, 3), &code)) {
    return ProbeError(admin_addr, "not an HTTP response");
  }
  if (code < 200 || code > 299) return ProbeError(admin_addr, absl::StrCat("HTTP ", code));
  return absl::OkStatus();
}

}  // namespace

absl::Status ProbeHealthz(const std::string& netns, const std::string& admin_addr,
                          absl::Duration timeout) {
  size_t colon = admin_addr.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  int port = 0;
  if (colon == std::string::npos ||
      ::inet_pton(AF_INET, admin_addr.substr(0, colon).c_str(), &addr.sin_addr) != 1 ||
      !absl::SimpleAtoi(admin_addr.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin address \"", admin_addr, "\": expected IPv4:port"));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  absl::StatusOr<int> fd = OpenSocketInNetns(netns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  if (!fd.ok()) return fd.status();
  absl::Status status = Exchange(*fd, addr, admin_addr, absl::Now() + timeout);
  ::close(*fd);
  return status;
}

}  // namespace weft::lab
