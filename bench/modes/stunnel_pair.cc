#include "bench/modes/stunnel_pair.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/modes/netns_command.h"
#include "bench/modes/netns_tcp_probe.h"
#include "bench/modes/throwaway_pki.h"
#include "common/status/errno_status.h"

namespace weft::bench::modes {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kLogTailLines = 8;

std::string Tail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) all.push_back(line);
  size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + from, all.end(), " | ");
}

absl::Status ValidateOptions(const StunnelPairOptions& o) {
  if (o.client_netns_path.empty() || o.server_netns_path.empty()) {
    return absl::InvalidArgumentError(
        "stunnel pair: client_netns_path and server_netns_path "
        "are required");
  }
  if (o.server_ip.empty()) return absl::InvalidArgumentError("stunnel pair: server_ip is required");
  if (o.work_dir.empty()) return absl::InvalidArgumentError("stunnel pair: work_dir is required");
  if (o.services.empty()) {
    return absl::InvalidArgumentError("stunnel pair: at least one service is required");
  }
  for (const StunnelService& s : o.services) {
    if (s.name.empty() || s.name.find_first_of("[]\n; ") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("stunnel pair: service name '", s.name, "' must be a plain word"));
    }
    if (s.client_port == 0 || s.server_port == 0 || s.app_address.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stunnel pair: service ", s.name, " needs client_port, server_port and app_address"));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// The child half of Spawn: into the netns, stdio to the stderr file, exec stunnel. A
// failure before or at exec is reported as {step, errno} on `status_fd` (close-on-exec,
// so EOF there means stunnel is running).
[[noreturn]] void ExecRelay(const std::string& binary, const std::string& config,
                            const std::string& netns_path, const std::string& stderr_path,
                            int status_fd, pid_t parent) {
  // SIGTERM, not SIGKILL: stunnel then closes its listeners and exits cleanly.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);
  int report[2] = {0, 0};
  int out = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (out < 0 || devnull < 0) {
    report[0] = 1;
    report[1] = errno;
    (void)!::write(status_fd, report, sizeof(report));
    ::_exit(127);
  }
  ::dup2(devnull, 0);
  ::dup2(out, 1);
  ::dup2(out, 2);
  ::dup2(status_fd, 3);
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  ::close_range(4, ~0U, 0);
  int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
    report[0] = 2;
    report[1] = errno;
    (void)!::write(3, report, sizeof(report));
    ::_exit(127);
  }
  ::execlp(binary.c_str(), binary.c_str(), config.c_str(), static_cast<char*>(nullptr));
  report[0] = 3;
  report[1] = errno;
  (void)!::write(3, report, sizeof(report));
  ::_exit(127);
}

}  // namespace

absl::StatusOr<std::unique_ptr<StunnelPair>> StunnelPair::Start(const StunnelPairOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  if (::mkdir(options.work_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "stunnel pair: mkdir", options.work_dir);
  }
  // Also the "binary missing" check, before any certificate is made.
  absl::StatusOr<CommandResult> version = RunCommand({options.stunnel_binary, "-version"});
  if (!version.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stunnel pair: cannot run '", options.stunnel_binary, "': ", version.status().message()));
  }
  std::unique_ptr<StunnelPair> pair(new StunnelPair(options));
  if (size_t at = version->output.find("stunnel "); at != std::string::npos) {
    pair->version_ = version->output.substr(at, version->output.find(' ', at + 8) - at);
  }

  absl::StatusOr<ThrowawayPki> pki =
      CreateThrowawayPki(options.work_dir + "/pki", options.server_ip);
  if (!pki.ok())
    return absl::Status(pki.status().code(), absl::StrCat("stunnel pair: certificates: ",
                                                          std::string(pki.status().message())));
  const std::string& dir = options.work_dir;
  for (Relay* relay : {&pair->server_, &pair->client_}) {
    const bool client = relay == &pair->client_;
    relay->name = client ? "client" : "server";
    relay->netns_path = client ? options.client_netns_path : options.server_netns_path;
    relay->config_path = absl::StrCat(dir, "/stunnel-", relay->name, ".conf");
    relay->log_path = absl::StrCat(dir, "/stunnel-", relay->name, ".log");
    relay->stderr_path = absl::StrCat(dir, "/stunnel-", relay->name, ".stderr");
    ::unlink(relay->log_path.c_str());  // a previous run's lines would confuse readers
    StunnelConfigInput input;
    input.side = client ? StunnelSide::kClient : StunnelSide::kServer;
    input.server_ip = options.server_ip;
    input.services = options.services;
    input.pki = *pki;
    input.log_path = relay->log_path;
    input.tcp_nodelay = options.tcp_nodelay;
    input.log_connections = options.log_connections;
    if (absl::Status s = WriteText(relay->config_path, RenderStunnelConfig(input)); !s.ok()) {
      return s;
    }
  }

  // Server first: the client side's probe connection makes it connect there.
  if (absl::Status s = pair->Spawn(pair->server_); !s.ok()) return s;
  for (const StunnelService& service : options.services) {
    absl::Status s = pair->WaitAccepting(pair->server_, options.server_ip, service.server_port);
    if (!s.ok()) return s;
  }
  if (absl::Status s = pair->Spawn(pair->client_); !s.ok()) return s;
  for (const StunnelService& service : options.services) {
    absl::Status s = pair->WaitAccepting(pair->client_, "127.0.0.1", service.client_port);
    if (!s.ok()) return s;
  }
  return pair;
}

absl::Status StunnelPair::Spawn(Relay& relay) {
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe for stunnel", relay.name);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ExecRelay(options_.stunnel_binary, relay.config_path, relay.netns_path, relay.stderr_path,
              status[1], parent);
  }
  const int fork_errno = errno;
  ::close(status[1]);
  if (pid < 0) {
    ::close(status[0]);
    return ErrnoStatus(fork_errno, "fork for stunnel", relay.name);
  }
  relay.pid = pid;
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(status[0], report, sizeof(report));
  } while (got < 0 && errno == EINTR);
  ::close(status[0]);
  if (got == static_cast<ssize_t>(sizeof(report))) {
    ::waitpid(pid, nullptr, 0);
    relay.pid = -1;
    static constexpr const char* kSteps[] = {"", "open its stderr file", "enter the netns", "exec"};
    return Failure(relay, ErrnoStatus(report[1], kSteps[report[0] & 3],
                                      report[0] == 3 ? options_.stunnel_binary : relay.netns_path)
                              .ToString());
  }
  return absl::OkStatus();
}

absl::Status StunnelPair::WaitAccepting(Relay& relay, const std::string& host, uint16_t port) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(options_.ready_timeout_ms);
  absl::Status last;
  while (true) {
    int wait_status = 0;
    if (::waitpid(relay.pid, &wait_status, WNOHANG) == relay.pid) {
      relay.pid = -1;
      return Failure(relay, WIFSIGNALED(wait_status)
                                ? absl::StrCat("killed by signal ", WTERMSIG(wait_status))
                                : absl::StrCat("exited with status ", WEXITSTATUS(wait_status),
                                               " (configuration rejected?)"));
    }
    last = ProbeTcpConnect(relay.netns_path, host, port);
    if (last.ok()) return absl::OkStatus();
    if (Clock::now() > deadline) {
      return Failure(relay, absl::StrCat("not accepting on ", JoinHostPort(host, port), " after ",
                                         options_.ready_timeout_ms, " ms: ", last.ToString()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::Status StunnelPair::Failure(const Relay& relay, const std::string& what) const {
  return absl::UnavailableError(
      absl::StrCat(relay.name, " stunnel (", relay.config_path, " in ", relay.netns_path,
                   "): ", what, "; log tail: ", Tail(relay.log_path, kLogTailLines),
                   "; stderr tail: ", Tail(relay.stderr_path, kLogTailLines)));
}

void StunnelPair::Stop(Relay& relay) {
  if (relay.pid <= 0) return;
  ::kill(relay.pid, SIGTERM);
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(2);
  while (::waitpid(relay.pid, nullptr, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(relay.pid, SIGKILL);
      ::waitpid(relay.pid, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  relay.pid = -1;
}

StunnelPair::~StunnelPair() {
  Stop(client_);
  Stop(server_);
}

std::string StunnelPair::Describe() const {
  std::vector<std::string> names;
  for (const StunnelService& s : options_.services) names.push_back(s.name);
  return absl::StrCat(
      version_.empty() ? "stunnel" : version_,
      " client+server relays (one pthread per connection), TLS 1.3 only, ciphersuites ",
      kStunnelCiphersuites,
      ", ECDSA P-256 certs from a throwaway CA, mutual auth (server "
      "requires and verifies the client cert; client verifies the server chain and ",
      IsIpAddress(options_.server_ip) ? "IP " : "host ", options_.server_ip, "), TCP_NODELAY ",
      options_.tcp_nodelay ? "set (as ztunnel does)" : "not set (ztunnel sets it)",
      " on both legs of both relays, services: ", absl::StrJoin(names, ","));
}

}  // namespace weft::bench::modes
