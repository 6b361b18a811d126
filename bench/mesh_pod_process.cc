#include "bench/mesh_pod_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Exit codes of a child that could not get into place, so a failed Start says where.
constexpr int kExitParentGone = 120;
constexpr int kExitChannel = 121;
constexpr int kExitCgroup = 122;
constexpr int kExitNetns = 123;

std::string ExitReason(int status) {
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  switch (WEXITSTATUS(status)) {
    case kExitParentGone:
      return "parent went away";
    case kExitChannel:
      return "could not set up the channel";
    case kExitCgroup:
      return "could not join the pod cgroup";
    case kExitNetns:
      return "could not enter the pod netns";
    default:
      return absl::StrCat("exited with status ", WEXITSTATUS(status));
  }
}

[[noreturn]] void BecomePod(const PodPlacement& placement, int channel, pid_t parent,
                            const std::function<int(int)>& body) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kExitParentGone);
  if (::dup2(channel, 3) != 3) ::_exit(kExitChannel);
  ::close_range(4, ~0U, 0);  // the lab's and other children's fds must not be held here
  if (!placement.cgroup_dir.empty()) {
    int procs = ::open((placement.cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    std::string me = std::to_string(::getpid());
    if (procs < 0 || ::write(procs, me.data(), me.size()) != static_cast<ssize_t>(me.size())) {
      ::_exit(kExitCgroup);
    }
    ::close(procs);
  }
  int ns = ::open(placement.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(kExitNetns);
  ::close(ns);
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  ::_exit(body(3));
}

}  // namespace

absl::StatusOr<std::unique_ptr<MeshPodProcess>> MeshPodProcess::Start(
    const PodPlacement& placement, std::function<int(int channel)> body, int ready_timeout_ms) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoStatus(errno, "socketpair for pod process");
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(pair[0]);
    ::close(pair[1]);
    return ErrnoStatus(err, "fork pod process");
  }
  if (pid == 0) BecomePod(placement, pair[1], parent, body);
  ::close(pair[1]);
  std::unique_ptr<MeshPodProcess> process(new MeshPodProcess(pid, pair[0]));
  absl::StatusOr<std::string> ready = process->ReadLine(ready_timeout_ms);
  if (ready.ok() && *ready == "ready") return process;
  int status = 0;
  std::string why =
      ready.ok() ? absl::StrCat("said '", *ready, "'") : std::string(ready.status().message());
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    why = ExitReason(status);
    process->pid_ = -1;  // reaped already
  }
  return absl::UnavailableError(
      absl::StrCat("pod process in ", placement.netns_path, " not ready: ", why));
}

MeshPodProcess::~MeshPodProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(fd_);
}

absl::StatusOr<std::string> MeshPodProcess::Call(const std::string& line, int timeout_ms) {
  if (!WriteChannelLine(fd_, line)) return ErrnoStatus(errno, "write to pod process");
  return ReadLine(timeout_ms);
}

absl::StatusOr<std::string> MeshPodProcess::ReadLine(int timeout_ms) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
    if (ready < 0 && errno == EINTR) continue;  // a stop signal: the child sees it too
    if (ready <= 0) return absl::DeadlineExceededError("pod process did not answer in time");
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("pod process went away");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

bool WriteChannelLine(int channel, const std::string& line) {
  const std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(channel, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ReadChannelLine(int channel, std::string* line) {
  line->clear();
  while (true) {
    char c;
    ssize_t n = ::recv(channel, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
}

}  // namespace weft::bench
