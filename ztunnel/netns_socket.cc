#include "ztunnel/netns_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/status/errno_status.h"

namespace weft::ztunnel {
namespace {

// The calling thread's own netns, opened once per thread.
int HomeNetns() {
  thread_local event::ScopedFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  return home.get();
}

// Runs `make` with the calling thread inside `netns_fd`, then returns it home.
template <typename Make>
absl::StatusOr<event::ScopedFd> InNetns(int netns_fd, const char* what, Make make) {
  const int home = HomeNetns();
  if (home < 0) return ErrnoStatus(errno, "open own netns", what);
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return ErrnoStatus(errno, "setns into pod", what);
  absl::StatusOr<event::ScopedFd> fd = make();
  // A worker thread left in a pod's netns would put every later socket there: no way on.
  if (::setns(home, CLONE_NEWNET) != 0) {
    log::Error("cannot return to ztunnel's own netns; aborting", {{"errno", errno}});
    std::abort();
  }
  return fd;
}

// ztunnel writes whole frames (a TLS record, an HTTP/2 frame batch, an app's chunk) and
// relays request/response traffic: Nagle would hold a small write back until the previous
// one is acknowledged, adding the peer's delayed-ACK time to a round trip.
absl::Status DisableNagle(int fd, const std::string& where) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return ErrnoStatus(errno, "setsockopt(TCP_NODELAY)", where);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<event::ScopedFd> StreamSocketInNetns(int netns_fd, int family, uint32_t mark) {
  return InNetns(netns_fd, "outbound socket", [&]() -> absl::StatusOr<event::ScopedFd> {
    event::ScopedFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return ErrnoStatus(errno, "socket", "pod netns");
    if (mark != 0 && ::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
      return ErrnoStatus(errno, "setsockopt(SO_MARK)", "pod netns");
    }
    if (absl::Status s = DisableNagle(fd.get(), "pod netns"); !s.ok()) return s;
    return fd;
  });
}

absl::Status EnableListenerMigration(int netns_fd) {
  absl::StatusOr<event::ScopedFd> done =
      InNetns(netns_fd, "tcp_migrate_req", []() -> absl::StatusOr<event::ScopedFd> {
        // /proc/sys/net shows the netns of the thread that opens it.
        event::ScopedFd fd(::open("/proc/sys/net/ipv4/tcp_migrate_req", O_WRONLY | O_CLOEXEC));
        if (!fd.valid()) return ErrnoStatus(errno, "open", "/proc/sys/net/ipv4/tcp_migrate_req");
        if (::write(fd.get(), "1", 1) != 1) {
          return ErrnoStatus(errno, "write", "/proc/sys/net/ipv4/tcp_migrate_req");
        }
        return event::ScopedFd();
      });
  return done.status();
}

absl::StatusOr<event::ScopedFd> ListenerInNetns(int netns_fd, const event::SocketAddress& address,
                                                int backlog) {
  return InNetns(netns_fd, "listener", [&]() -> absl::StatusOr<event::ScopedFd> {
    const std::string where = address.ToString();
    event::ScopedFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return ErrnoStatus(errno, "socket", where);
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      return ErrnoStatus(errno, "setsockopt(SO_REUSEPORT)", where);
    }
    if (address.family() == AF_INET6) {
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    // Accepted sockets inherit TCP_NODELAY from their listener.
    if (absl::Status s = DisableNagle(fd.get(), where); !s.ok()) return s;
    if (::bind(fd.get(), address.sockaddr_ptr(), address.length()) != 0) {
      return ErrnoStatus(errno, "bind", where);
    }
    if (::listen(fd.get(), backlog) != 0) return ErrnoStatus(errno, "listen", where);
    return fd;
  });
}

}  // namespace weft::ztunnel
