#include "tests/integration/agent/pod_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

namespace weft::agent::testing {
namespace {

// getsockopt(SOL_IP, SO_ORIGINAL_DST): the value <linux/netfilter_ipv4.h> defines, kept
// here so the test does not depend on netfilter headers.
constexpr int kSoOriginalDst = 80;
constexpr int kIoTimeoutMs = 2000;

using Clock = std::chrono::steady_clock;

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// One line (without '\n') from a blocking-or-not fd, waiting at most `timeout_ms`.
// "" with *error set ("timeout", "eof" or an errno number) on failure.
std::string ReadLineFrom(int fd, int timeout_ms, std::string* error) {
  std::string line;
  Clock::time_point start = Clock::now();
  while (true) {
    int left = timeout_ms - static_cast<int>(MillisSince(start));
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, left) == 0) {
      *error = "timeout";
      return "";
    }
    char c;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::to_string(errno);
      return "";
    }
    if (n == 0) {
      *error = "eof";
      return "";
    }
    if (c == '\n') return line;
    line.push_back(c);
  }
}

sockaddr_in Address(const std::string& ip, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  return addr;
}

std::string Format(const sockaddr_in& addr) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
  return std::string(ip) + ":" + std::to_string(ntohs(addr.sin_port));
}

int Listen(const sockaddr_in& addr) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 1024) != 0) {
    return -1;
  }
  return fd;
}

// Accepts on `listeners`, greets each connection with banner(fd) + "\n", echoes bytes;
// also sends the banner to the channel (best effort) when `report` is set. Returns when
// the channel closes.
int ServeLoop(int channel, const std::vector<int>& listeners,
              const std::function<std::string(int)>& banner, bool report) {
  if (!WriteAll(channel, "ready\n")) return 1;
  std::vector<int> conns;
  while (true) {
    std::vector<pollfd> fds;
    fds.push_back({channel, POLLIN, 0});
    for (int l : listeners) fds.push_back({l, POLLIN, 0});
    for (int c : conns) fds.push_back({c, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[0].revents != 0) return 0;  // the test closed the channel (or wrote to it)
    std::vector<int> keep;
    for (size_t i = 1 + listeners.size(); i < fds.size(); ++i) {
      int c = fds[i].fd;
      if (fds[i].revents == 0) {
        keep.push_back(c);
        continue;
      }
      char buf[4096];
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n > 0 && WriteAll(c, std::string(buf, static_cast<size_t>(n)))) {
        keep.push_back(c);
      } else {
        ::close(c);
      }
    }
    conns = std::move(keep);
    for (size_t i = 1; i <= listeners.size(); ++i) {
      if (fds[i].revents == 0) continue;
      int c = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string greeting = banner(c);
      if (report) {
        std::string line = "orig " + greeting.substr(greeting.find(' ') + 1) + "\n";
        (void)::send(channel, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      if (WriteAll(c, greeting + "\n")) {
        conns.push_back(c);
      } else {
        ::close(c);
      }
    }
  }
}

// Connects with a bounded wait; the fd, or -1 with *error set.
int Connect(const std::string& ip, uint16_t port, std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = std::to_string(errno);
    return -1;
  }
  sockaddr_in addr = Address(ip, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      *error = std::to_string(errno);
      ::close(fd);
      return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (::poll(&p, 1, kIoTimeoutMs) != 1) {
      soerr = ETIMEDOUT;
    } else {
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    }
    if (soerr != 0) {
      *error = std::to_string(soerr);
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

// Connects and reads the peer's banner: "server", "ztunnel <orig dst>" or "err <why>".
std::string ConnectAndGreet(const std::string& ip, uint16_t port, int* fd_out) {
  std::string error;
  int fd = Connect(ip, port, &error);
  if (fd < 0) return "err " + error;
  std::string banner = ReadLineFrom(fd, kIoTimeoutMs, &error);
  if (!error.empty()) {
    ::close(fd);
    return "err " + error;
  }
  if (fd_out != nullptr) {
    *fd_out = fd;
  } else {
    ::close(fd);
  }
  return banner;
}

std::string EchoOnce(int fd) {
  if (!WriteAll(fd, "x")) return "err " + std::to_string(errno);
  char c = 0;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, kIoTimeoutMs) != 1) return "err timeout";
  ssize_t n = ::recv(fd, &c, 1, 0);
  if (n < 0) return "err " + std::to_string(errno);
  if (n == 0) return "err eof";
  return c == 'x' ? "ok" : "err garbled";
}

bool Captured(const std::string& banner) { return banner.rfind("ztunnel ", 0) == 0; }

// `churn IP PORT MS`: a greeted connect (then close) every MS ms until the channel says
// "stop"; the reply counts attempts, failed connects and connects not captured, names the
// first problem, and gives the longest window (ms) from a failed connect's start to the
// next successful one's.
std::string Churn(int channel, const std::string& ip, uint16_t port, int interval_ms) {
  int attempts = 0;
  int failed = 0;
  int not_captured = 0;
  std::string first_problem = "-";
  Clock::time_point next = Clock::now();
  std::optional<Clock::time_point> failing_since;
  int64_t longest_failing_ms = 0;
  while (true) {
    int wait = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count());
    pollfd p{channel, POLLIN, 0};
    if (::poll(&p, 1, std::max(wait, 0)) != 0) break;  // "stop" (or the test went away)
    next += std::chrono::milliseconds(interval_ms);
    ++attempts;
    const Clock::time_point started = Clock::now();
    std::string banner = ConnectAndGreet(ip, port, nullptr);
    if (banner.rfind("err ", 0) == 0) {
      ++failed;
      if (!failing_since) failing_since = started;
    } else if (failing_since) {
      longest_failing_ms = std::max<int64_t>(
          longest_failing_ms,
          std::chrono::duration_cast<std::chrono::milliseconds>(started - *failing_since).count());
      failing_since.reset();
    }
    if (banner.rfind("err ", 0) == 0) {
    } else if (!Captured(banner)) {
      ++not_captured;
    } else {
      continue;
    }
    if (first_problem == "-") first_problem = "#" + std::to_string(attempts) + ":" + banner;
  }
  std::string error;
  ReadLineFrom(channel, 100, &error);  // consume "stop"
  for (char& c : first_problem) c = c == ' ' ? '_' : c;
  std::ostringstream out;
  if (failing_since) {
    longest_failing_ms = std::max<int64_t>(
        longest_failing_ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                Clock::now() - *failing_since)
                                .count());
  }
  out << "churn " << attempts << " " << failed << " " << not_captured << " " << first_problem
      << " " << longest_failing_ms;
  return out.str();
}

}  // namespace

std::unique_ptr<PodProcess> PodProcess::Start(const PodPlacement& placement,
                                              std::function<int(int channel)> body,
                                              int lifetime_s) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return nullptr;
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pair[0]);
    ::close(pair[1]);
    return nullptr;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(120);
    ::alarm(static_cast<unsigned>(lifetime_s));
    // Keep only stdio and the channel: other tests' fds must not be held open here.
    if (::dup2(pair[1], 3) != 3) ::_exit(121);
    ::close_range(4, ~0U, 0);
    if (!placement.cgroup.empty()) {
      int procs = ::open((placement.cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      std::string me = std::to_string(::getpid());
      if (procs < 0 || ::write(procs, me.data(), me.size()) != static_cast<ssize_t>(me.size())) {
        ::_exit(122);
      }
      ::close(procs);
    }
    int ns = ::open(("/run/netns/" + placement.netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(123);
    ::close(ns);
    ::_exit(body(3));
  }
  ::close(pair[1]);
  return std::unique_ptr<PodProcess>(new PodProcess(pid, pair[0]));
}

PodProcess::~PodProcess() {
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  ::close(fd_);
}

bool PodProcess::Send(const std::string& line) { return WriteAll(fd_, line + "\n"); }

std::optional<std::string> PodProcess::ReadLine(int timeout_ms) {
  Clock::time_point start = Clock::now();
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    int left = timeout_ms - static_cast<int>(MillisSince(start));
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, left) != 1) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::optional<std::string> PodProcess::Call(const std::string& line, int timeout_ms) {
  if (!Send(line)) return std::nullopt;
  return ReadLine(timeout_ms);
}

int RunStandInZtunnel(int channel) {
  int listener = Listen(Address("0.0.0.0", 15001));  // capture slots: 127.1.x.y
  if (listener < 0) return 1;
  return ServeLoop(
      channel, {listener},
      [](int conn) {
        sockaddr_in orig{};
        socklen_t len = sizeof(orig);
        if (::getsockopt(conn, SOL_IP, kSoOriginalDst, &orig, &len) != 0) {
          return "ztunnel none(errno " + std::to_string(errno) + ")";
        }
        return "ztunnel " + Format(orig);
      },
      /*report=*/true);
}

int RunEchoServer(int channel, std::vector<uint16_t> ports) {
  std::vector<int> listeners;
  for (uint16_t port : ports) {
    int l = Listen(Address("0.0.0.0", port));
    if (l < 0) return 1;
    listeners.push_back(l);
  }
  return ServeLoop(
      channel, listeners, [](int) { return std::string("server"); }, /*report=*/false);
}

// Commands, one per line; one reply line each:
//   probe IP PORT      -> the banner ("server" / "ztunnel IP:PORT") or "err <errno|why>"
//   open IP PORT       -> "<id> <banner>" (connection kept) or "err ..."
//   echo ID            -> "ok" or "err ..." (one byte through a kept connection)
//   hold N IP PORT     -> "held <captured> <not captured> <failed>" (connections kept)
//   churn IP PORT MS   -> (after "stop") "churn <attempts> <failed> <not captured> <first>"
//   echoall            -> "echoall <ok> <failed> <first error>" over every kept connection
int RunPodClient(int channel) {
  std::map<int, int> kept;  // id -> fd
  int next_id = 0;
  while (true) {
    std::string error;
    std::string line = ReadLineFrom(channel, 24 * 3600 * 1000, &error);
    if (!error.empty()) return 0;
    std::istringstream in(line);
    std::string cmd;
    std::string ip;
    int port = 0;
    in >> cmd;
    std::string reply;
    if (cmd == "probe") {
      in >> ip >> port;
      reply = ConnectAndGreet(ip, static_cast<uint16_t>(port), nullptr);
    } else if (cmd == "open") {
      in >> ip >> port;
      int fd = -1;
      reply = ConnectAndGreet(ip, static_cast<uint16_t>(port), &fd);
      if (fd >= 0) {
        kept[next_id] = fd;
        reply = std::to_string(next_id++) + " " + reply;
      }
    } else if (cmd == "echo") {
      int id = -1;
      in >> id;
      reply = kept.count(id) ? EchoOnce(kept[id]) : "err no such id";
    } else if (cmd == "hold") {
      int n = 0;
      in >> n >> ip >> port;
      int captured = 0;
      int other = 0;
      int failed = 0;
      for (int i = 0; i < n; ++i) {
        int fd = -1;
        std::string banner = ConnectAndGreet(ip, static_cast<uint16_t>(port), &fd);
        if (fd < 0) {
          ++failed;
          continue;
        }
        ++(Captured(banner) ? captured : other);
        kept[next_id++] = fd;
      }
      reply = "held " + std::to_string(captured) + " " + std::to_string(other) + " " +
              std::to_string(failed);
    } else if (cmd == "churn") {
      int interval_ms = 10;
      in >> ip >> port >> interval_ms;
      reply = Churn(channel, ip, static_cast<uint16_t>(port), interval_ms);
    } else if (cmd == "echoall") {
      int ok = 0;
      int failed = 0;
      std::string first = "-";
      for (const auto& [id, fd] : kept) {
        std::string r = EchoOnce(fd);
        if (r == "ok") {
          ++ok;
        } else {
          ++failed;
          if (first == "-") first = std::to_string(id) + ":" + r;
        }
      }
      reply = "echoall " + std::to_string(ok) + " " + std::to_string(failed) + " " + first;
    } else {
      reply = "err unknown command " + cmd;
    }
    if (!WriteAll(channel, reply + "\n")) return 1;
  }
}

namespace {

std::unique_ptr<PodProcess> StartAndAwaitReady(const PodPlacement& placement,
                                               std::function<int(int)> body) {
  std::unique_ptr<PodProcess> process = PodProcess::Start(placement, std::move(body));
  if (process == nullptr) return nullptr;
  std::optional<std::string> ready = process->ReadLine(5000);
  if (!ready.has_value() || *ready != "ready") return nullptr;
  return process;
}

}  // namespace

std::unique_ptr<PodProcess> StartStandInZtunnel(const PodPlacement& placement) {
  return StartAndAwaitReady(placement, RunStandInZtunnel);
}

std::unique_ptr<PodProcess> StartEchoServer(const PodPlacement& placement,
                                            std::vector<uint16_t> ports) {
  return StartAndAwaitReady(placement,
                            [ports](int channel) { return RunEchoServer(channel, ports); });
}

std::unique_ptr<PodProcess> StartPodClient(const PodPlacement& placement) {
  return PodProcess::Start(placement, RunPodClient);
}

}  // namespace weft::agent::testing
