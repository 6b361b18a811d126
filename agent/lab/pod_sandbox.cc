#include "agent/lab/pod_sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/lab/network_builder.h"
#include "common/status/errno_status.h"

namespace weft::lab {
namespace {

constexpr char kReady[] = "ready";

void WriteString(int fd, const char* text) {
  ssize_t ignored = ::write(fd, text, std::strlen(text));
  (void)ignored;
}

// The child's report of a failed step goes to the supervisor through `report_fd` (so
// `lab up` names it) and to stderr (the supervisor's log).
[[noreturn]] void ChildFail(int report_fd, const char* what) {
  const char* reason = std::strerror(errno);
  for (const char* part : {what, ": ", reason}) WriteString(report_fd, part);
  for (const char* part : {"weftctl lab: pod sandbox setup failed: ", what, ": ", reason, "\n"}) {
    WriteString(2, part);
  }
  ::_exit(126);
}

// Without exec nothing closes the supervisor's descriptors for us, and some must not
// stay open: lab.lock would stay locked and `lab up --detach`'s report pipe would never
// reach EOF for as long as a sandbox lives.
void CloseInheritedFds() {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  rlimit limit{};
  int max_fd = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                   ? static_cast<int>(limit.rlim_cur)
                   : 65536;
  for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
}

// The sandbox itself; never returns. The supervisor is single-threaded, so the child
// may use anything, but it keeps to plain syscalls on descriptors opened before fork.
[[noreturn]] void RunSandbox(pid_t parent, int netns_fd, int procs_fd, int report_fd) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(report_fd, "prctl(PR_SET_PDEATHSIG)");
  // The supervisor may have died between fork and prctl; then nobody would kill us.
  if (::getppid() != parent) ::_exit(126);
  if (::prctl(PR_SET_NAME, kSandboxProcessName) != 0) ChildFail(report_fd, "prctl(PR_SET_NAME)");
  // The cgroup first: the moment the process is in the pod's netns, it is the pod's.
  if (::write(procs_fd, "0", 1) != 1) ChildFail(report_fd, "join pod cgroup");
  if (::setns(netns_fd, CLONE_NEWNET) != 0) ChildFail(report_fd, "setns into pod netns");
  // The supervisor blocks the signals it reads from its signalfd; a sandbox must die of
  // SIGTERM like any process, but not of the terminal's ^C: its life is the lab's.
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  for (int sig : {SIGINT, SIGQUIT, SIGHUP, SIGPIPE}) ::signal(sig, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  WriteString(report_fd, kReady);
  CloseInheritedFds();  // also closes report_fd: the supervisor sees EOF and goes on
  while (true) ::pause();
}

}  // namespace

absl::StatusOr<pid_t> StartPodSandbox(const weft::lab::state::v1::PodState& pod) {
  const std::string pod_ref = absl::StrCat(pod.namespace_(), "/", pod.name());
  const std::string netns_path = NetnsPath(pod.netns());
  const std::string procs_path = pod.cgroup() + "/cgroup.procs";
  int netns_fd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (netns_fd < 0) return ErrnoStatus(errno, "sandbox of " + pod_ref + ": open " + netns_path);
  int procs_fd = ::open(procs_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (procs_fd < 0) {
    int err = errno;
    ::close(netns_fd);
    return ErrnoStatus(err, "sandbox of " + pod_ref + ": open " + procs_path);
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(netns_fd);
    ::close(procs_fd);
    return ErrnoStatus(err, "sandbox of " + pod_ref + ": pipe");
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    RunSandbox(parent, netns_fd, procs_fd, report[1]);
  }
  int fork_errno = errno;
  ::close(report[1]);
  ::close(netns_fd);
  ::close(procs_fd);
  if (pid < 0) {
    ::close(report[0]);
    return ErrnoStatus(fork_errno, "sandbox of " + pod_ref + ": fork");
  }
  // The child writes "ready" or what failed, then closes the pipe (or exits).
  std::string outcome;
  char buf[256];
  ssize_t n;
  while ((n = ::read(report[0], buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    outcome.append(buf, static_cast<size_t>(n));
  }
  ::close(report[0]);
  if (outcome != kReady) {
    return absl::InternalError(
        absl::StrCat("sandbox of ", pod_ref, " (pid ", pid,
                     "): ", outcome.empty() ? std::string("exited during setup") : outcome));
  }
  return pid;
}

}  // namespace weft::lab
