#include "tests/bpf/inbound/test_netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/bpf/inbound/bpffs_pins.h"
#include "common/host/mount_table.h"

namespace weft::bpf::testing {

absl::Status Sh(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return absl::InternalError(absl::StrCat("popen: ", command));
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  int rc = pclose(p);
  if (rc != 0) return absl::InternalError(absl::StrCat("`", command, "` failed: ", out));
  return absl::OkStatus();
}

std::string UniqueName(const std::string& tag) {
  static std::atomic<int> counter{0};
  return absl::StrCat("winb-", getpid(), "-", counter++, "-", tag);
}

absl::StatusOr<std::unique_ptr<TestNetns>> TestNetns::Create(const std::string& tag) {
  std::unique_ptr<TestNetns> ns(new TestNetns(UniqueName(tag)));
  if (absl::Status s = Sh("ip netns add " + ns->name_); !s.ok()) return s;
  ns->fd_ = open(("/run/netns/" + ns->name_).c_str(), O_RDONLY | O_CLOEXEC);
  if (ns->fd_ < 0) return absl::InternalError("open /run/netns/" + ns->name_);
  if (absl::Status s = ns->Ip("link set lo up"); !s.ok()) return s;
  return ns;
}

TestNetns::~TestNetns() {
  if (fd_ >= 0) close(fd_);
  Sh("ip netns del " + name_).IgnoreError();
}

absl::Status TestNetns::Ip(const std::string& args) const {
  return Sh(absl::StrCat("ip -n ", name_, " ", args));
}

void TestNetns::Run(const std::function<void()>& fn) const {
  std::thread t([&] {
    if (setns(fd_, CLONE_NEWNET) != 0) {
      std::perror("setns");
      std::abort();  // running fn in the wrong netns would make the test meaningless
    }
    fn();
  });
  t.join();
}

sockaddr_storage Addr(const std::string& ip, uint16_t port) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
  }
  return ss;
}

std::string AddrToString(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(v4->sin_port));
  }
  auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof(buf));
  return absl::StrCat("[", buf, "]:", ntohs(v6->sin6_port));
}

bool SameAddr(const sockaddr_storage& a, const sockaddr_storage& b) {
  return a.ss_family == b.ss_family && AddrToString(a) == AddrToString(b);
}

static socklen_t AddrLen(const sockaddr_storage& a) {
  return a.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

static int Socket(const TestNetns* ns, int family) {
  int fd = -1;
  auto make = [&] { fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0); };
  if (ns != nullptr) {
    ns->Run(make);
  } else {
    make();
  }
  return fd;
}

absl::StatusOr<int> Listen(const TestNetns* ns, const std::string& ip, uint16_t port, bool v6only) {
  sockaddr_storage addr = Addr(ip, port);
  int fd = Socket(ns, addr.ss_family);
  if (fd < 0) return weft::ErrnoStatus(errno, "socket", ip);
  int one = 1, v6 = v6only ? 1 : 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), AddrLen(addr)) != 0 || listen(fd, 64) != 0) {
    absl::Status s = weft::ErrnoStatus(errno, "bind/listen", AddrToString(addr));
    close(fd);
    return s;
  }
  return fd;
}

absl::StatusOr<int> Connect(const TestNetns* ns, const sockaddr_storage& to, int timeout_ms) {
  int fd = Socket(ns, to.ss_family);
  if (fd < 0) return weft::ErrnoStatus(errno, "socket", AddrToString(to));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int err = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), AddrLen(to)) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, timeout_ms) == 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
  }
  if (err != 0) {
    close(fd);
    return weft::ErrnoStatus(err, "connect", AddrToString(to));
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

absl::StatusOr<int> Accept(int listener, int timeout_ms) {
  pollfd p{listener, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return absl::DeadlineExceededError("accept: nothing came");
  int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return weft::ErrnoStatus(errno, "accept", "listener");
  return fd;
}

uint64_t SocketCookie(int fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
  return cookie;
}

sockaddr_storage LocalAddr(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ss;
}

TestPinDir::TestPinDir() {
  absl::StatusOr<std::string> bpffs = host::EnsureBpffsMounted();
  path_ = absl::StrCat(bpffs.ok() ? *bpffs : std::string("/sys/fs/bpf"), "/", UniqueName("pins"));
}

TestPinDir::~TestPinDir() { bpf::RemovePinTree(path_).IgnoreError(); }

}  // namespace weft::bpf::testing
