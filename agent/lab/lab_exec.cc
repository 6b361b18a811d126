// `weftctl lab exec [--name LAB] POD -- CMD ARGS...`: runs a command as if it were a
// process of the pod — in the pod's cgroup (so the agent's cgroup programs see it as the
// pod's) and in the pod's network namespace — and returns its exit status.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/lab/address_plan.h"
#include "agent/lab/lab_subcommands.h"
#include "agent/lab/network_builder.h"
#include "agent/lab/state_store.h"

namespace weft::lab {
namespace {

using weft::lab::state::v1::LabState;
using weft::lab::state::v1::PodState;

[[noreturn]] void ChildFail(const char* what) {
  std::fprintf(stderr, "weftctl lab exec: %s: %s\n", what, std::strerror(errno));
  ::_exit(126);
}

}  // namespace

int RunLabExec(const std::vector<std::string>& args) {
  absl::StatusOr<LabArgs> parsed = ParseLabArgs(args, {"--name"}, {});
  if (!parsed.ok()) return ReportFailure("exec", parsed.status());
  if (parsed->positional.size() != 1 || !parsed->has_command || parsed->command.empty()) {
    return ReportFailure("exec", absl::InvalidArgumentError(
                                     "usage: weftctl lab exec [--name LAB] POD -- CMD [ARGS...]"));
  }
  absl::StatusOr<std::string> lab = ResolveLabName(parsed->Flag("--name"));
  if (!lab.ok()) return ReportFailure("exec", lab.status());
  absl::StatusOr<LabState> state = LoadState(*lab);
  if (!state.ok()) return ReportFailure("exec", state.status());
  absl::StatusOr<PodState> pod = FindPod(*state, parsed->positional[0]);
  if (!pod.ok()) return ReportFailure("exec", pod.status());

  // Opened before fork so that failures are reported here, in one line.
  const std::string netns_path = NetnsPath(pod->netns());
  const std::string procs_path = pod->cgroup() + "/cgroup.procs";
  int netns_fd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (netns_fd < 0) {
    return ReportFailure(
        "exec", absl::NotFoundError(absl::StrCat("open ", netns_path, ": ", std::strerror(errno))));
  }
  int procs_fd = ::open(procs_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (procs_fd < 0) {
    int err = errno;
    ::close(netns_fd);
    return ReportFailure(
        "exec", absl::NotFoundError(absl::StrCat("open ", procs_path, ": ", std::strerror(err))));
  }
  std::vector<char*> argv;
  for (std::string& a : parsed->command) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    return ReportFailure("exec", absl::InternalError(absl::StrCat("fork: ", std::strerror(errno))));
  }
  if (pid == 0) {
    // The cgroup first: from here on, anything the child does is the pod's.
    if (::write(procs_fd, "0", 1) != 1) ChildFail(("join cgroup " + pod->cgroup()).c_str());
    if (::setns(netns_fd, CLONE_NEWNET) != 0) ChildFail(("setns " + netns_path).c_str());
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "weftctl lab exec: %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  ::close(netns_fd);
  ::close(procs_fd);
  // Like system(3): a terminal's ^C goes to the child, which decides; we report.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int {};
  struct sigaction old_quit {};
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  if (waited < 0) {
    return ReportFailure("exec",
                         absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno))));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace weft::lab
