#include "common/admin/admin_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/event/socket_address.h"
#include "common/host/netns.h"

namespace weft::admin {
namespace {

absl::Status Failure(const std::string& address, const std::string& what, int err = 0) {
  return absl::UnavailableError(absl::StrCat("admin ", address, ": ", what,
                                             err ? absl::StrCat(": ", std::strerror(err)) : ""));
}

int RemainingMs(absl::Time deadline) {
  return static_cast<int>(
      std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
}

// A non-blocking socket connected to `address`, created in `netns_path` if set.
absl::StatusOr<int> Connect(const event::SocketAddress& address, const std::string& text,
                            const std::string& netns_path, absl::Time deadline) {
  absl::StatusOr<int> result = absl::InternalError("not run");
  auto connect_here = [&] {
    int fd = socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      result = Failure(text, "socket", errno);
      return;
    }
    if (connect(fd, address.sockaddr_ptr(), address.length()) != 0 && errno != EINPROGRESS) {
      int err = errno;
      close(fd);
      result = Failure(text, "connect", err);
      return;
    }
    result = fd;
  };
  if (netns_path.empty()) {
    connect_here();
  } else {
    int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return Failure(text, absl::StrCat("opening netns ", netns_path), errno);
    absl::Status entered = host::RunInNetns(ns, connect_here);
    close(ns);
    if (!entered.ok()) {
      return absl::UnavailableError(absl::StrCat("admin ", text, ": entering netns ", netns_path,
                                                 ": ", std::string(entered.message())));
    }
  }
  if (!result.ok()) return result;
  pollfd p = {*result, POLLOUT, 0};
  if (poll(&p, 1, RemainingMs(deadline)) != 1) {
    close(*result);
    return Failure(text, "connect timed out");
  }
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(*result, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    close(*result);
    return Failure(text, "connect", err);
  }
  return result;
}

}  // namespace

absl::StatusOr<AdminReply> AdminGet(const std::string& address, const std::string& path,
                                    const AdminGetOptions& options) {
  absl::StatusOr<event::SocketAddress> parsed = event::SocketAddress::Parse(address);
  if (!parsed.ok()) return parsed.status();
  const absl::Time deadline = absl::Now() + options.timeout;
  absl::StatusOr<int> fd = Connect(*parsed, address, options.netns_path, deadline);
  if (!fd.ok()) return fd.status();
  std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", address,
                                     "\r\nConnection: close\r\n\r\n");
  size_t sent = 0;
  std::string response;
  char buf[16384];
  while (true) {
    short events = sent < request.size() ? POLLOUT : POLLIN;
    pollfd p = {*fd, events, 0};
    if (poll(&p, 1, RemainingMs(deadline)) != 1) {
      close(*fd);
      return Failure(address, "timed out waiting for the reply");
    }
    if (sent < request.size()) {
      ssize_t n = send(*fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) {
        int err = errno;
        close(*fd);
        return Failure(address, "send", err);
      }
      if (n > 0) sent += static_cast<size_t>(n);
      continue;
    }
    ssize_t n = recv(*fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      int err = errno;
      close(*fd);
      return Failure(address, "recv", err);
    }
    response.append(buf, static_cast<size_t>(n));
    if (response.size() > (64u << 20)) {
      close(*fd);
      return Failure(address, "reply larger than 64 MiB");
    }
  }
  close(*fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody" — Connection: close, so the body runs to EOF.
  size_t header_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12 ||
      header_end == std::string::npos) {
    return Failure(address, "malformed HTTP reply");
  }
  AdminReply reply;
  auto [end, ec] = std::from_chars(response.data() + 9, response.data() + 12, reply.status);
  if (ec != std::errc()) return Failure(address, "malformed HTTP status line");
  reply.body = response.substr(header_end + 4);
  return reply;
}

}  // namespace weft::admin
