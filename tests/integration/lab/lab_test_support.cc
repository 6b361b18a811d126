#include "tests/integration/lab/lab_test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include "google/protobuf/util/json_util.h"

namespace weft::lab::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return names;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

[[noreturn]] void ExecOrDie(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, int timeout_s) {
  ProcessResult result;
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return result;
  pid_t pid = ::fork();
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ExecOrDie(argv);
  }
  ::close(out[1]);
  ::close(err[1]);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return result;
}

std::string WeftctlPath() { return std::string(WEFT_BINARY_DIR) + "/agent/weftctl"; }

ProcessResult Weftctl(const std::vector<std::string>& args, int timeout_s) {
  std::vector<std::string> argv = {WeftctlPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, timeout_s);
}

pid_t SpawnWeftctl(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    std::vector<std::string> argv = {WeftctlPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    ExecOrDie(argv);
  }
  return pid;
}

std::string TwoNodeTopologyPath() {
  return std::string(WEFT_SOURCE_DIR) + "/deploy/lab/two-node.yaml";
}

std::string UniqueLabName(const std::string& tag) {
  return tag.substr(0, 4) + std::to_string(::getpid() % 1000000);
}

weft::lab::state::v1::LabState ReadLabState(const std::string& lab) {
  weft::lab::state::v1::LabState state;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(
      ReadFile("/run/weft/lab/" + lab + "/state.json"), &state, options);
  return state;
}

std::string MountOfType(const std::string& fstype) {
  std::istringstream in(ReadFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> w = Words(line);
    for (size_t i = 0; i + 1 < w.size(); ++i) {
      if (w[i] == "-" && w[i + 1] == fstype) return w[4];
    }
  }
  return "";
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  char state = stat[close + 2];
  return state != 'Z' && state != 'X';
}

std::string ProcessComm(pid_t pid) {
  std::string comm = ReadFile("/proc/" + std::to_string(pid) + "/comm");
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

std::vector<pid_t> PidsInCgroup(const std::string& cgroup) {
  std::vector<pid_t> pids;
  for (const std::string& word : Words(ReadFile(cgroup + "/cgroup.procs"))) {
    pids.push_back(static_cast<pid_t>(std::stol(word)));
  }
  return pids;
}

uint64_t NamespaceInode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

int SocketInNetns(const std::string& netns, int type) {
  int target = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  int original = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (target >= 0 && original >= 0 && ::setns(target, CLONE_NEWNET) == 0) {
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (::setns(original, CLONE_NEWNET) != 0) std::abort();
  }
  if (target >= 0) ::close(target);
  if (original >= 0) ::close(original);
  return fd;
}

std::vector<std::string> HostLinksWithLabAlias(const std::string& lab) {
  std::vector<std::string> found;
  ProcessResult links = RunProcess({"ip", "-o", "link", "show"});
  std::istringstream in(links.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("alias weft-lab-" + lab) != std::string::npos) found.push_back(line);
  }
  return found;
}

std::vector<std::string> FindLeftovers(const std::string& lab, const std::vector<pid_t>& pids) {
  std::vector<std::string> left;
  const std::string netns_prefix = "weft-" + lab + "-";
  for (const std::string& name : Words(RunProcess({"ip", "netns", "list"}).out)) {
    if (name.rfind(netns_prefix, 0) == 0) left.push_back("netns " + name);
  }
  for (const std::string& link : HostLinksWithLabAlias(lab)) left.push_back("host link " + link);
  const std::string cgroup = MountOfType("cgroup2") + "/weft-lab-" + lab;
  if (Exists(cgroup)) left.push_back("cgroup " + cgroup);
  const std::string cgroup_mark = "/weft-lab-" + lab + "/";
  const std::string instance_mark = "lab-" + lab + "-";
  const std::string supervisor_mark = std::string("--name") + '\0' + lab + '\0';
  for (const std::string& entry : ListDir("/proc")) {
    if (entry.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!ProcessAlive(std::stoi(entry))) continue;
    std::string cgroups = ReadFile("/proc/" + entry + "/cgroup");
    std::string cmdline = ReadFile("/proc/" + entry + "/cmdline");
    if (cgroups.find(cgroup_mark) != std::string::npos ||
        cmdline.find(instance_mark) != std::string::npos) {
      left.push_back("process " + entry);
    } else if (ReadFile("/proc/" + entry + "/comm") == "weft-pause\n" &&
               cmdline.find(supervisor_mark) != std::string::npos) {
      left.push_back("pod sandbox " + entry + " outside the lab's cgroups");
    }
  }
  for (pid_t pid : pids) {
    if (ProcessAlive(pid)) left.push_back("process " + std::to_string(pid) + " (recorded)");
  }
  if (Exists("/run/weft/lab/" + lab)) left.push_back("state dir /run/weft/lab/" + lab);
  if (std::string bpffs = MountOfType("bpf"); !bpffs.empty()) {
    for (const std::string& pin : ListDir(bpffs + "/weft")) {
      if (pin.rfind(instance_mark, 0) == 0) left.push_back("bpffs pin " + pin);
    }
  }
  return left;
}

}  // namespace weft::lab::testing
