#include "bench/suite/loadgen_invocation.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace weft::bench {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

double Number(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? 0 : it->second.number_value();
}

const Struct* Object(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || !it->second.has_struct_value()) return nullptr;
  return &it->second.struct_value();
}

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Forks and execs argv with stdout and stderr on pipes. The child dies with the bench.
absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return absl::InternalError("pipe");
  }
  std::vector<char*> raw;
  for (const std::string& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(raw[0], raw.data());
    const char msg[] = "exec failed\n";
    (void)!::write(2, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  return Child{pid, out[0], err[0]};
}

// Reads both pipes until EOF or the deadline.
bool Drain(const Child& child, absl::Time deadline, std::string* out, std::string* err) {
  bool out_open = true, err_open = true;
  char buffer[16384];
  while (out_open || err_open) {
    int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0) return false;
    pollfd fds[2] = {{out_open ? child.stdout_fd : -1, POLLIN, 0},
                     {err_open ? child.stderr_fd : -1, POLLIN, 0}};
    if (::poll(fds, 2, wait_ms) < 0 && errno != EINTR) return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        (i == 0 ? out : err)->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
  }
  return true;
}

std::string Tail(const std::string& text) {
  return text.size() > 400 ? text.substr(text.size() - 400) : text;
}

}  // namespace

absl::StatusOr<LoadgenSummary> ParseLoadgenJson(const std::string& json) {
  Struct root;
  if (auto s = google::protobuf::util::JsonStringToMessage(json, &root); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft-loadgen printed no JSON object: ", std::string(s.message())));
  }
  LoadgenSummary summary;
  summary.count = static_cast<uint64_t>(Number(root, "count"));
  summary.rate = Number(root, "rate");
  summary.duration_s = Number(root, "duration_s");
  summary.throughput_mib_s = Number(root, "throughput_mib_s");
  summary.bytes = summary.throughput_mib_s * summary.duration_s * 1024 * 1024;
  summary.error_total = static_cast<uint64_t>(Number(root, "error_total"));
  if (const Struct* errors = Object(root, "errors")) {
    for (const auto& [kind, n] : errors->fields()) {
      summary.errors[kind] = static_cast<uint64_t>(n.number_value());
    }
  }
  if (const Struct* latency = Object(root, "latency_ns")) {
    summary.p50_us = Number(*latency, "p50") / 1000;
    summary.p90_us = Number(*latency, "p90") / 1000;
    summary.p99_us = Number(*latency, "p99") / 1000;
    summary.p999_us = Number(*latency, "p99_9") / 1000;
  }
  if (const Struct* service = Object(root, "service_time_ns")) {
    summary.service_p50_us = Number(*service, "p50") / 1000;
    summary.service_p90_us = Number(*service, "p90") / 1000;
    summary.service_p99_us = Number(*service, "p99") / 1000;
    summary.service_p999_us = Number(*service, "p99_9") / 1000;
  }
  return summary;
}

absl::StatusOr<LoadgenSummary> RunLoadgenClient(const std::string& binary,
                                                const std::vector<std::string>& args,
                                                absl::Duration timeout,
                                                const std::function<void(pid_t)>& on_started) {
  std::vector<std::string> argv = {binary, "client"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  absl::StatusOr<Child> child = Spawn(argv);
  if (!child.ok()) return child.status();
  if (on_started) on_started(child->pid);
  std::string out, err;
  bool finished = Drain(*child, absl::Now() + timeout, &out, &err);
  ::close(child->stdout_fd);
  ::close(child->stderr_fd);
  if (!finished) ::kill(child->pid, SIGKILL);
  int status = 0;
  while (::waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    return absl::DeadlineExceededError(
        absl::StrCat("weft-loadgen client ran over ", absl::FormatDuration(timeout), ": ",
                     Tail(err)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("weft-loadgen client ",
                                            absl::StrJoin(args, " "), " exited with status ",
                                            WIFEXITED(status) ? WEXITSTATUS(status) : -1, ": ",
                                            Tail(err)));
  }
  return ParseLoadgenJson(out);
}

absl::StatusOr<std::unique_ptr<LoadgenServer>> LoadgenServer::Start(
    const std::string& binary, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {binary, "server"};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<Child> child = Spawn(argv);
  if (!child.ok()) return child.status();
  auto server = std::unique_ptr<LoadgenServer>(
      new LoadgenServer(child->pid, child->stdout_fd, child->stderr_fd));
  // Wait for "listening ..." on stdout; stderr is only read for the error message.
  std::string out, err;
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  char buffer[4096];
  while (out.find('\n') == std::string::npos && absl::Now() < deadline) {
    pollfd fd = {child->stdout_fd, POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    ssize_t n = ::read(child->stdout_fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  if (out.rfind("listening", 0) != 0) {
    Drain(Child{-1, -1, child->stderr_fd}, absl::Now() + absl::Milliseconds(200), &out, &err);
    return absl::UnavailableError(absl::StrCat("weft-loadgen server ", absl::StrJoin(args, " "),
                                               " did not start: ", Tail(err)));
  }
  return server;
}

LoadgenServer::~LoadgenServer() {
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(stdout_fd_);
  ::close(stderr_fd_);
}

}  // namespace weft::bench
