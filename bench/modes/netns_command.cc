#include "bench/modes/netns_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/errno_status.h"

namespace weft::bench::modes {
namespace {

using Clock = std::chrono::steady_clock;

// What the child reports on its status pipe (fd 3, close-on-exec) when it fails before or
// at exec: a step and the errno. EOF without a report means exec succeeded.
struct ChildFailure {
  int step;  // 1: netns, 2: exec
  int err;
};

// Only async-signal-safe calls here: the parent may have other threads (one could hold the
// malloc lock at fork time), so `args` is built before the fork.
[[noreturn]] void ExecChild(char* const* args, const std::string& netns_path, int output_fd,
                            int status_fd, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::dup2(output_fd, 1);
  ::dup2(output_fd, 2);
  ::dup2(status_fd, 3);
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  ::close_range(4, ~0U, 0);
  ChildFailure failure{0, 0};
  if (!netns_path.empty()) {
    int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
      failure = {1, errno};
      (void)!::write(3, &failure, sizeof(failure));
      ::_exit(127);
    }
    ::close(ns);
  }
  ::execvp(args[0], args);
  failure = {2, errno};
  (void)!::write(3, &failure, sizeof(failure));
  ::_exit(127);
}

}  // namespace

std::string CommandLine(const std::vector<std::string>& argv) { return absl::StrJoin(argv, " "); }

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& netns_path, int timeout_ms) {
  if (argv.empty()) return absl::InvalidArgumentError("RunCommand: empty argv");
  int output[2], status[2];
  if (::pipe2(output, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe for", argv[0]);
  if (::pipe2(status, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(output[0]);
    ::close(output[1]);
    return ErrnoStatus(err, "pipe for", argv[0]);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) ExecChild(args.data(), netns_path, output[1], status[1], parent);
  const int fork_errno = errno;
  ::close(output[1]);
  ::close(status[1]);
  if (pid < 0) {
    ::close(output[0]);
    ::close(status[0]);
    return ErrnoStatus(fork_errno, "fork for", argv[0]);
  }

  CommandResult result;
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{output[0], POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // re-check the deadline
    char buf[4096];
    ssize_t n = ::read(output[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the command (and anything it forked) closed its output
    result.output.append(buf, static_cast<size_t>(n));
  }
  ::close(output[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  ChildFailure failure{0, 0};
  ssize_t got = ::read(status[0], &failure, sizeof(failure));
  ::close(status[0]);
  if (got == static_cast<ssize_t>(sizeof(failure))) {
    if (failure.step == 1) return ErrnoStatus(failure.err, "enter netns", netns_path);
    return ErrnoStatus(failure.err, "exec", argv[0]);
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(CommandLine(argv), ": no exit within ",
                                                    timeout_ms, " ms; output: ", result.output));
  }
  result.exit_code =
      WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
  return result;
}

absl::StatusOr<std::string> RunCommandOk(const std::vector<std::string>& argv,
                                         const std::string& netns_path, int timeout_ms) {
  absl::StatusOr<CommandResult> result = RunCommand(argv, netns_path, timeout_ms);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    std::string where = netns_path.empty() ? "" : absl::StrCat(" (in ", netns_path, ")");
    return absl::InternalError(absl::StrCat("`", CommandLine(argv), "`", where, " exited ",
                                            result->exit_code, ": ", result->output));
  }
  return std::move(result->output);
}

}  // namespace weft::bench::modes
