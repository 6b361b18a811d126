#include "tests/bpf/capture/capture_test_env.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/host/netns.h"
#include "common/host/mount_table.h"

namespace weft::capture_test {
namespace {

absl::Status ErrnoError(const std::string& what) {
  return absl::Status(absl::ErrnoToStatusCode(errno), absl::StrCat(what, ": ", strerror(errno)));
}

std::string FormatSockaddr(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(sin->sin_port));
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
    // A dual-stack socket talking IPv4: show it the way the application wrote it.
    inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(sin6->sin6_port));
  }
  inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
  return absl::StrCat("[", buf, "]:", ntohs(sin6->sin6_port));
}

int Listen(int family, const std::string& ip, uint16_t port) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (family == AF_INET6) {
    // [::1] listens v6-only (127.0.0.1 has its own); [::] takes both families.
    int v6only = ip == "::1" ? one : zero;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
  }
  socklen_t len;
  sockaddr_storage addr = Endpoint(ip, port, &len);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 4096) != 0) {
    fprintf(stderr, "ztunnel stand-in: listen %s:%u: %s\n", ip.c_str(), port, strerror(errno));
    _exit(3);
  }
  return fd;
}

// What the stand-in says to a new connection.
std::string Greeting(int conn, bool outbound) {
  if (!outbound) {
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    getsockname(conn, reinterpret_cast<sockaddr*>(&local), &len);
    return absl::StrCat("A ", FormatSockaddr(local), "\n");
  }
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  getsockname(conn, reinterpret_cast<sockaddr*>(&local), &len);
  sockaddr_storage orig{};
  len = sizeof(orig);
  int level = local.ss_family == AF_INET ? SOL_IP : SOL_IPV6;
  if (getsockopt(conn, level, 80 /* SO_ORIGINAL_DST */, &orig, &len) != 0) return "Z none\n";
  return absl::StrCat("Z ", FormatSockaddr(orig), "\n");
}

[[noreturn]] void ServeForever(int ready_fd, int report_fd, int accept_delay_ms) {
  // Clients that already left are normal here (see the slow-acceptor test).
  signal(SIGPIPE, SIG_IGN);
  struct Listener {
    int fd;
    bool outbound;
  };
  std::vector<Listener> listeners = {
      {Listen(AF_INET, "0.0.0.0", kOutboundPort), true},  // capture slots: 127.1.x.y
      {Listen(AF_INET6, "::1", kOutboundPort), true},
      {Listen(AF_INET6, "::", kAppPort), false},
      {Listen(AF_INET6, "::", kExcludedPort), false},
  };
  char ok = 'R';
  if (write(ready_fd, &ok, 1) != 1) _exit(4);
  close(ready_fd);
  std::vector<pollfd> pfds;
  for (const Listener& l : listeners) pfds.push_back({l.fd, POLLIN, 0});
  const size_t nlisten = pfds.size();
  for (;;) {
    if (poll(pfds.data(), pfds.size(), -1) < 0) continue;
    for (size_t i = 0; i < pfds.size(); ++i) {
      if (pfds[i].revents == 0) continue;
      if (i < nlisten) {
        if (accept_delay_ms > 0) usleep(accept_delay_ms * 1000);
        int conn = accept4(pfds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) continue;
        std::string hello = Greeting(conn, listeners[i].outbound);
        // Non-blocking: a test that does not read reports must not stall the server.
        (void)!write(report_fd, hello.data(), hello.size());
        if (write(conn, hello.data(), hello.size()) < 0) {
          close(conn);
          continue;
        }
        pfds.push_back({conn, POLLIN, 0});
        continue;
      }
      char buf[4096];
      ssize_t n = read(pfds[i].fd, buf, sizeof(buf));
      if (n > 0 && write(pfds[i].fd, buf, n) == n) continue;
      close(pfds[i].fd);
      pfds.erase(pfds.begin() + i);
      --i;
    }
  }
}

}  // namespace

absl::Status Sh(const std::string& command) {
  int rc = std::system((command + " >/dev/null 2>&1").c_str());
  if (rc != 0) return absl::InternalError(absl::StrCat("`", command, "` exited with ", rc));
  return absl::OkStatus();
}

std::string UniqueName(const std::string& tag) { return absl::StrCat("wcap-", getpid(), "-", tag); }

absl::StatusOr<std::unique_ptr<TestNetns>> TestNetns::Create(const std::string& tag) {
  std::unique_ptr<TestNetns> ns(new TestNetns(UniqueName(tag)));
  const std::string n = ns->name_;
  Sh("ip netns del " + n).IgnoreError();  // a leftover of a crashed run with a reused pid
  for (const std::string& cmd : {
           "ip netns add " + n,
           "ip -n " + n + " link set lo up",
           "ip -n " + n + " link add pod0 type veth peer name pod1",
           "ip -n " + n + " link set pod0 up",
           "ip -n " + n + " link set pod1 up",
           absl::StrCat("ip -n ", n, " addr add ", kPodIpv4, "/24 dev pod0"),
           absl::StrCat("ip -n ", n, " addr add ", kOtherLocalIpv4, "/32 dev pod0"),
           absl::StrCat("ip -n ", n, " addr add ", kExcludedIpv4, "/32 dev pod0"),
           absl::StrCat("ip -n ", n, " addr add ", kPodIpv6, "/64 dev pod0 nodad"),
           absl::StrCat("ip -n ", n, " addr add ", kOtherLocalIpv6, "/128 dev pod0 nodad"),
           absl::StrCat("ip -n ", n, " addr add ", kExcludedIpv6, "/128 dev pod0 nodad"),
       }) {
    if (absl::Status s = Sh(cmd); !s.ok()) return s;
  }
  ns->fd_ = open(("/run/netns/" + n).c_str(), O_RDONLY | O_CLOEXEC);
  if (ns->fd_ < 0) return ErrnoError("open /run/netns/" + n);
  absl::StatusOr<uint64_t> cookie = weft::host::NetnsCookieOf(ns->fd_);
  if (!cookie.ok()) return cookie.status();
  ns->cookie_ = *cookie;
  return ns;
}

TestNetns::~TestNetns() {
  if (fd_ >= 0) close(fd_);
  Sh("ip netns del " + name_).IgnoreError();
}

absl::StatusOr<std::unique_ptr<TestCgroup>> TestCgroup::Create(const std::string& tag) {
  absl::StatusOr<std::string> root = weft::host::Cgroup2MountPoint();
  if (!root.ok()) return root.status();
  std::unique_ptr<TestCgroup> cg(new TestCgroup(absl::StrCat(*root, "/", UniqueName(tag))));
  rmdir(cg->path_.c_str());
  if (mkdir(cg->path_.c_str(), 0755) != 0) return ErrnoError("mkdir " + cg->path_);
  cg->fd_ = open(cg->path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg->fd_ < 0) return ErrnoError("open " + cg->path_);
  return cg;
}

TestCgroup::~TestCgroup() {
  if (fd_ >= 0) close(fd_);
  // Children were reaped by their owners; a just-exited one may linger briefly.
  for (int i = 0; i < 100 && rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

absl::Status EnterPod(const TestCgroup& cgroup, const TestNetns& netns) {
  int fd = open((cgroup.path() + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open cgroup.procs");
  bool ok = write(fd, "0", 1) == 1;
  close(fd);
  if (!ok) return ErrnoError("join cgroup");
  if (setns(netns.fd(), CLONE_NEWNET) != 0) return ErrnoError("setns");
  return absl::OkStatus();
}

absl::StatusOr<std::string> RunInPod(const TestCgroup& cgroup, const TestNetns& netns,
                                     const std::function<std::string()>& fn, int timeout_ms) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    close(p[0]);
    if (absl::Status s = EnterPod(cgroup, netns); !s.ok()) {
      std::string msg = "CHILD-SETUP " + s.ToString();
      (void)!write(p[1], msg.data(), msg.size());
      _exit(2);
    }
    std::string out = fn();
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = write(p[1], out.data() + off, out.size() - off);
      if (n <= 0) _exit(3);
      off += n;
    }
    _exit(0);
  }
  close(p[1]);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  for (;;) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    pollfd pfd{p[0], POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, left) == 0) {
      timed_out = true;
      break;
    }
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, n);
  }
  close(p[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) return absl::DeadlineExceededError("pod child timed out; output: " + out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("pod child failed (status ", status, "): ", out));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ZtunnelStandIn>> ZtunnelStandIn::Start(const TestCgroup& cgroup,
                                                                      const TestNetns& netns,
                                                                      int accept_delay_ms) {
  int p[2], reports[2];
  if (pipe2(p, O_CLOEXEC) != 0 || pipe2(reports, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  fcntl(reports[1], F_SETFL, O_NONBLOCK);
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    close(p[0]);
    close(reports[0]);
    if (!EnterPod(cgroup, netns).ok()) _exit(2);
    ServeForever(p[1], reports[1], accept_delay_ms);
  }
  close(p[1]);
  close(reports[1]);
  std::unique_ptr<ZtunnelStandIn> z(new ZtunnelStandIn(pid, reports[0]));
  pollfd pfd{p[0], POLLIN, 0};
  char c = 0;
  bool ready = poll(&pfd, 1, 5000) == 1 && read(p[0], &c, 1) == 1 && c == 'R';
  close(p[0]);
  if (!ready) return absl::InternalError("ztunnel stand-in did not start");
  return z;
}

ZtunnelStandIn::~ZtunnelStandIn() {
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  close(reports_);
}

absl::StatusOr<std::string> ZtunnelStandIn::NextReport(int timeout_ms) {
  std::string line;
  char c;
  pollfd pfd{reports_, POLLIN, 0};
  while (poll(&pfd, 1, timeout_ms) == 1 && read(reports_, &c, 1) == 1) {
    if (c == '\n') return line;
    line.push_back(c);
  }
  return absl::DeadlineExceededError("no report from the ztunnel stand-in; got: " + line);
}

absl::StatusOr<std::unique_ptr<HeldConnection>> HeldConnection::Open(const TestCgroup& cgroup,
                                                                     const TestNetns& netns,
                                                                     const std::string& ip,
                                                                     uint16_t port) {
  int down[2], up[2];
  if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    if (!EnterPod(cgroup, netns).ok()) _exit(2);
    socklen_t len;
    sockaddr_storage dst = Endpoint(ip, port, &len);
    int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    std::string line;
    if (connect(fd, reinterpret_cast<sockaddr*>(&dst), len) != 0) {
      line = absl::StrCat("ERR ", strerrorname_np(errno));
    } else {
      char c;
      while (read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
    }
    line.push_back('\n');
    (void)!write(up[1], line.data(), line.size());
    // Wait for the payload from the parent, then echo-check it.
    char buf[256];
    ssize_t n = read(down[0], buf, sizeof(buf));
    if (n <= 0) _exit(0);
    std::string payload(buf, n), echo(n, '\0');
    bool ok = write(fd, payload.data(), n) == n && recv(fd, echo.data(), n, MSG_WAITALL) == n &&
              echo == payload;
    close(fd);
    std::string verdict = ok ? "OK" : absl::StrCat("ECHO-FAILED ", strerrorname_np(errno));
    (void)!write(up[1], verdict.data(), verdict.size());
    _exit(0);
  }
  close(down[0]);
  close(up[1]);
  std::unique_ptr<HeldConnection> held(new HeldConnection(pid, down[1], up[0]));
  char c;
  pollfd pfd{held->from_child_, POLLIN, 0};
  while (poll(&pfd, 1, 5000) == 1 && read(held->from_child_, &c, 1) == 1 && c != '\n') {
    held->greeting_.push_back(c);
  }
  return held;
}

absl::StatusOr<std::string> HeldConnection::EchoAndClose(const std::string& payload) {
  if (write(to_child_, payload.data(), payload.size()) != static_cast<ssize_t>(payload.size())) {
    return ErrnoError("write to held connection child");
  }
  std::string out;
  char buf[256];
  pollfd pfd{from_child_, POLLIN, 0};
  while (poll(&pfd, 1, 5000) == 1) {
    ssize_t n = read(from_child_, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

HeldConnection::~HeldConnection() {
  close(to_child_);
  close(from_child_);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

sockaddr_storage Endpoint(const std::string& ip, uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    *len = sizeof(*sin);
  } else {
    inet_pton(AF_INET6, ip.c_str(), &sin6->sin6_addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    *len = sizeof(*sin6);
  }
  return ss;
}

std::string ConnectAndRead(const std::string& ip, uint16_t port, uint32_t mark,
                           const std::string& payload) {
  socklen_t len;
  sockaddr_storage dst = Endpoint(ip, port, &len);
  int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (mark != 0) setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), len) != 0) {
    std::string err = absl::StrCat("ERR ", strerrorname_np(errno));
    close(fd);
    return err;
  }
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (!payload.empty()) {
    std::string echo(payload.size(), '\0');
    bool ok =
        write(fd, payload.data(), payload.size()) == static_cast<ssize_t>(payload.size()) &&
        recv(fd, echo.data(), echo.size(), MSG_WAITALL) == static_cast<ssize_t>(payload.size()) &&
        echo == payload;
    if (!ok) line = "ECHO-MISMATCH";
  }
  close(fd);
  return line;
}

}  // namespace weft::capture_test
