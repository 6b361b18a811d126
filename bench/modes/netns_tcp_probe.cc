#include "bench/modes/netns_tcp_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/event/scoped_fd.h"
#include "common/host/netns.h"
#include "common/status/errno_status.h"

namespace weft::bench::modes {
namespace {

absl::Status ConnectOnce(const std::string& host, uint16_t port, int timeout_ms,
                         const std::string& where) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(*v4);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(*v6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("probe: '", host, "' is not an IP address"));
  }
  weft::event::ScopedFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return ErrnoStatus(errno, "probe socket", where);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0) return absl::OkStatus();
  if (errno != EINPROGRESS) return ErrnoStatus(errno, "probe connect", where);
  pollfd p{fd.get(), POLLOUT, 0};
  int ready = ::poll(&p, 1, timeout_ms);
  if (ready == 0)
    return absl::DeadlineExceededError(
        absl::StrCat("probe connect ", where, ": no answer in ", timeout_ms, " ms"));
  if (ready < 0) return ErrnoStatus(errno, "probe poll", where);
  int err = 0;
  socklen_t err_len = sizeof(err);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len);
  if (err != 0) return ErrnoStatus(err, "probe connect", where);
  return absl::OkStatus();
}

}  // namespace

absl::Status ProbeTcpConnect(const std::string& netns_path, const std::string& host, uint16_t port,
                             int timeout_ms) {
  const std::string where = absl::StrCat(host, ":", port, " in ", netns_path);
  weft::event::ScopedFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (ns.get() < 0) return ErrnoStatus(errno, "open netns", netns_path);
  absl::Status result;
  absl::Status entered = weft::host::RunInNetns(
      ns.get(), [&] { result = ConnectOnce(host, port, timeout_ms, where); });
  return entered.ok() ? result : entered;
}

}  // namespace weft::bench::modes
