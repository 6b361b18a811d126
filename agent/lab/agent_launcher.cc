#include "agent/lab/agent_launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/lab/address_plan.h"
#include "agent/lab/network_builder.h"
#include "common/config/document_parser.h"
#include "common/status/errno_status.h"

namespace weft::lab {
namespace {

// Between fork and exec only async-signal-safe calls: write(2) a fixed message.
[[noreturn]] void ChildFail(const char* what, int code) {
  const char* reason = std::strerror(errno);  // strerror is not listed safe, but reads a table
  ssize_t ignored = ::write(2, "weftctl lab: agent setup failed: ", 33);
  ignored = ::write(2, what, std::strlen(what));
  ignored = ::write(2, ": ", 2);
  ignored = ::write(2, reason, std::strlen(reason));
  ignored = ::write(2, "\n", 1);
  (void)ignored;
  ::_exit(code);
}

struct ChildFds {
  int netns = -1;
  int cgroup_procs = -1;
  int log = -1;
  int dev_null = -1;
  void Close() {
    for (int fd : {netns, cgroup_procs, log, dev_null}) {
      if (fd >= 0) ::close(fd);
    }
  }
};

absl::StatusOr<ChildFds> OpenChildFds(const weft::lab::state::v1::NodeState& node,
                                      const std::string& cgroup, const std::string& log_path) {
  ChildFds fds;
  const std::string netns = NetnsPath(node.netns());
  const std::string procs = cgroup + "/cgroup.procs";
  fds.netns = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
  if (fds.netns < 0) return ErrnoStatus(errno, "open " + netns);
  fds.cgroup_procs = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (fds.cgroup_procs < 0) {
    int err = errno;
    fds.Close();
    return ErrnoStatus(err, "open " + procs);
  }
  fds.log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fds.log < 0) {
    int err = errno;
    fds.Close();
    return ErrnoStatus(err, "open " + log_path);
  }
  fds.dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fds.dev_null < 0) {
    int err = errno;
    fds.Close();
    return ErrnoStatus(err, "open /dev/null");
  }
  return fds;
}

}  // namespace

absl::StatusOr<std::string> FindAgentBinary() { return FindNodeBinary("weft-agent", "WEFT_AGENT_BIN"); }

absl::StatusOr<std::string> FindZtunnelBinary() {
  return FindNodeBinary("weft-ztunnel", "WEFT_ZTUNNEL_BIN");
}

absl::StatusOr<std::string> FindNodeBinary(const std::string& name, const char* env_var) {
  std::string path;
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') {
    path = env;
  } else {
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) return ErrnoStatus(errno, "readlink /proc/self/exe");
    std::string exe(self, static_cast<size_t>(n));
    path = exe.substr(0, exe.rfind('/')) + "/" + name;
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " not found at ", path, " (", std::strerror(errno),
                     "); build it next to weftctl or set ", env_var));
  }
  return path;
}

std::vector<std::string> AgentArgv(const std::string& binary,
                                   const weft::lab::state::v1::LabState& lab,
                                   const weft::lab::state::v1::NodeState& node) {
  return {binary,
          "--node",
          node.name(),
          "--config",
          lab.cluster_config_path(),
          "--cgroup-root",
          node.cgroup_root(),
          "--bpffs",
          lab.bpffs(),
          "--instance",
          InstancePrefix(lab.name()) + node.name(),
          "--admin-addr",
          node.admin_addr(),
          "--node-api-socket",
          node.node_api_socket(),
          // Without ztunnel a pod is captured once something listens on 15001 in it.
          "--netns-socket",
          lab.ztunnel() ? node.netns_socket() : "",
          "--ca-dir",
          lab.ca_dir(),
          // SO_ORIGINAL_DST is answered where ztunnel runs; without it, in the pods.
          "--getsockopt-cgroup",
          lab.ztunnel() ? node.ztunnel().cgroup() : "",
          "--log-format",
          "text"};
}

std::vector<std::string> ZtunnelArgv(const std::string& binary,
                                     const weft::lab::state::v1::LabState& lab,
                                     const weft::lab::state::v1::NodeState& node) {
  std::vector<std::string> argv = {binary,
          "--node",
          node.name(),
          "--node-api-socket",
          node.node_api_socket(),
          "--netns-socket",
          node.netns_socket(),
          "--admin-addr",
          node.ztunnel().admin_addr(),
          "--log-format",
          "text",
          "--access-log",
          "stdout"};
  argv.insert(argv.end(), lab.ztunnel_flags().begin(), lab.ztunnel_flags().end());
  return argv;
}

absl::StatusOr<pid_t> StartAgent(const std::string& binary,
                                 const weft::lab::state::v1::LabState& lab,
                                 const weft::lab::state::v1::NodeState& node) {
  return StartNodeProcess(AgentArgv(binary, lab, node), node, node.agent_cgroup(),
                          node.log_path());
}

absl::StatusOr<pid_t> StartZtunnel(const std::string& binary,
                                   const weft::lab::state::v1::LabState& lab,
                                   const weft::lab::state::v1::NodeState& node) {
  return StartNodeProcess(ZtunnelArgv(binary, lab, node), node, node.ztunnel().cgroup(),
                          node.ztunnel().log_path());
}

absl::StatusOr<pid_t> StartNodeProcess(std::vector<std::string> argv,
                                       const weft::lab::state::v1::NodeState& node,
                                       const std::string& cgroup, const std::string& log_path) {
  absl::StatusOr<ChildFds> fds = OpenChildFds(node, cgroup, log_path);
  if (!fds.ok()) return fds.status();
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    fds->Close();
    return ErrnoStatus(err, "fork for " + argv[0] + " on " + node.name());
  }
  if (pid == 0) {
    if (::dup2(fds->dev_null, 0) < 0 || ::dup2(fds->log, 1) < 0 || ::dup2(fds->log, 2) < 0) {
      ::_exit(126);
    }
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail("prctl(PR_SET_PDEATHSIG)", 126);
    // The supervisor may have died between fork and prctl; then nobody would kill us.
    if (::getppid() != parent) ::_exit(126);
    if (::write(fds->cgroup_procs, "0", 1) != 1) ChildFail("join cgroup", 126);
    if (::setns(fds->netns, CLONE_NEWNET) != 0) ChildFail("setns into node netns", 126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
    ::execv(args[0], args.data());
    ChildFail("execv", 127);
  }
  fds->Close();
  return pid;
}

namespace {

// Fields after the ")" that closes the command name (which may contain spaces).
absl::StatusOr<std::vector<std::string>> StatFields(pid_t pid) {
  absl::StatusOr<std::string> stat =
      weft::config::ReadFileToString(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return stat.status();
  size_t close = stat->rfind(')');
  if (close == std::string::npos) {
    return absl::DataLossError(absl::StrCat("/proc/", pid, "/stat: no command name"));
  }
  return absl::StrSplit(stat->substr(close + 1), ' ', absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<uint64_t> ProcessStartTime(pid_t pid) {
  absl::StatusOr<std::vector<std::string>> fields = StatFields(pid);
  if (!fields.ok()) return fields.status();
  // fields[0] is field 3 (state); starttime is field 22.
  uint64_t start = 0;
  if (fields->size() < 20 || !absl::SimpleAtoi((*fields)[19], &start)) {
    return absl::DataLossError(absl::StrCat("/proc/", pid, "/stat: no start time"));
  }
  return start;
}

bool IsSameProcess(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  absl::StatusOr<std::vector<std::string>> fields = StatFields(pid);
  if (!fields.ok() || fields->size() < 20) return false;
  if ((*fields)[0] == "Z" || (*fields)[0] == "X") return false;
  uint64_t start = 0;
  if (!absl::SimpleAtoi((*fields)[19], &start)) return false;
  return start_time == 0 || start == start_time;
}

}  // namespace weft::lab
