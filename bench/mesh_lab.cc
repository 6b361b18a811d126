#include "bench/mesh_lab.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/mesh_node_probe.h"
#include "common/host/mount_table.h"
#include "common/status/errno_status.h"
#include "google/protobuf/util/json_util.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kDataplaneLabel[] = "weft.dev/dataplane-mode";

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string LastLine(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

// Runs argv with stdin from /dev/null and stdout+stderr into a temporary file (not a
// pipe: `lab up --detach` leaves a supervisor behind, and nothing of it may hold our end).
absl::Status RunToCompletion(const std::vector<std::string>& argv, absl::Duration timeout,
                             std::string* output) {
  char path[] = "/tmp/mesh-bench-weftctl-XXXXXX";
  int out = ::mkstemp(path);
  if (out < 0) return ErrnoStatus(errno, "mkstemp", path);
  ::unlink(path);
  const pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(out);
    return ErrnoStatus(err, "fork", argv[0]);
  }
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close_range(3, ~0U, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  const Clock::time_point deadline = Clock::now() + absl::ToChronoSeconds(timeout);
  int status = 0;
  bool timed_out = false;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  ::lseek(out, 0, SEEK_SET);
  while ((n = ::read(out, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out);
  if (output != nullptr) *output = text;
  const std::string command = absl::StrJoin(argv, " ");
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(command, ": no exit within ", absl::FormatDuration(timeout)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::UnavailableError(absl::StrCat(command, " failed: ", LastLine(text)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MeshLab>> MeshLab::Up(const MeshLabOptions& options) {
  std::unique_ptr<MeshLab> lab(new MeshLab(options));
  // A leftover of a killed earlier run with the same name (and pid) would block `up`.
  (void)lab->Weftctl({"lab", "down", "--name", options.name}, absl::Seconds(60));
  lab->up_ = true;  // from here on the destructor takes down whatever `up` made
  absl::Status up = lab->Weftctl(
      {"lab", "up", options.topology, "--name", options.name, "--detach"}, options.up_timeout);
  if (!up.ok()) return up;
  absl::StatusOr<LabState> state = lab->ReadState();
  if (!state.ok()) return state.status();
  lab->state_ = *std::move(state);
  if (absl::Status s = lab->CheckZtunnels(); !s.ok()) return s;
  return lab;
}

absl::StatusOr<std::unique_ptr<MeshLab>> MeshLab::Attach(const MeshLabOptions& options) {
  std::unique_ptr<MeshLab> lab(new MeshLab(options));
  absl::StatusOr<LabState> state = lab->ReadState();
  if (!state.ok()) {
    return absl::NotFoundError(absl::StrCat("lab ", options.name, " is not running (",
                                            state.status().message(), ")"));
  }
  lab->state_ = *std::move(state);
  if (lab->state_.phase() != "ready") {
    return absl::FailedPreconditionError(
        absl::StrCat("lab ", options.name, " is ", lab->state_.phase(), ", not ready"));
  }
  if (absl::Status s = lab->CheckZtunnels(); !s.ok()) return s;
  return lab;
}

absl::Status MeshLab::CheckZtunnels() const {
  for (const NodeState& node : state_.nodes()) {
    if (!node.has_ztunnel() || node.ztunnel().pid() <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("lab ", options_.name, ": node ", node.name(), " runs no ztunnel"));
    }
  }
  return absl::OkStatus();
}

MeshLab::~MeshLab() {
  if (!up_) return;
  if (absl::Status s = Weftctl({"lab", "down", "--name", options_.name}, absl::Seconds(60));
      !s.ok()) {
    fprintf(stderr, "lab %s: cleanup: %s\n", options_.name.c_str(), s.ToString().c_str());
  }
}

absl::Status MeshLab::Weftctl(const std::vector<std::string>& args, absl::Duration timeout,
                              std::string* output) const {
  std::vector<std::string> argv = {options_.weftctl};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunToCompletion(argv, timeout, output);
}

absl::StatusOr<MeshLab::LabState> MeshLab::ReadState() const {
  const std::string path = absl::StrCat("/run/weft/lab/", options_.name, "/state.json");
  LabState state;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  if (auto s = google::protobuf::util::JsonStringToMessage(ReadWholeFile(path), &state, parse);
      !s.ok()) {
    return absl::InternalError(absl::StrCat(path, ": ", std::string(s.message())));
  }
  return state;
}

absl::StatusOr<MeshLab::PodState> MeshLab::Pod(const std::string& name) const {
  const size_t slash = name.find('/');
  for (const PodState& pod : state_.pods()) {
    const bool match = slash == std::string::npos
                           ? pod.name() == name
                           : pod.namespace_() == name.substr(0, slash) &&
                                 pod.name() == name.substr(slash + 1);
    if (match) return pod;
  }
  return absl::NotFoundError(absl::StrCat("lab ", options_.name, " has no pod ", name));
}

absl::StatusOr<MeshLab::NodeState> MeshLab::Node(const std::string& name) const {
  for (const NodeState& node : state_.nodes()) {
    if (node.name() == name) return node;
  }
  return absl::NotFoundError(absl::StrCat("lab ", options_.name, " has no node ", name));
}

absl::StatusOr<PodPlacement> MeshLab::Placement(const std::string& pod_name,
                                                bool join_cgroup) const {
  absl::StatusOr<PodState> pod = Pod(pod_name);
  if (!pod.ok()) return pod.status();
  PodPlacement placement;
  placement.netns_path = "/run/netns/" + pod->netns();
  if (join_cgroup) {
    placement.cgroup_dir = pod->cgroup();
    if (placement.cgroup_dir.empty() || placement.cgroup_dir[0] != '/') {
      absl::StatusOr<std::string> root = weft::host::Cgroup2MountPoint();
      if (!root.ok()) return root.status();
      placement.cgroup_dir = *root + "/" + placement.cgroup_dir;
    }
  }
  return placement;
}

absl::StatusOr<std::vector<std::string>> MeshLab::EnrolledPods(const std::string& ns) const {
  std::vector<std::string> enrolled;
  for (const NodeState& node : state_.nodes()) {
    absl::StatusOr<weft::admin::v1::WorkloadsDump> dump = ReadEnrolledWorkloads(node);
    if (!dump.ok()) return dump.status();
    for (const auto& w : dump->workloads()) {
      if (w.namespace_() == ns) enrolled.push_back(absl::StrCat(ns, "/", w.name()));
    }
  }
  std::sort(enrolled.begin(), enrolled.end());
  return enrolled;
}

absl::Status MeshLab::SetAmbient(const std::string& ns, bool ambient, absl::Duration timeout) {
  const std::string change =
      ambient ? absl::StrCat(kDataplaneLabel, "=ambient") : absl::StrCat(kDataplaneLabel, "-");
  if (absl::Status s = Weftctl({"lab", "label", "--name", options_.name, "namespace", ns, change},
                               absl::Seconds(30));
      !s.ok()) {
    return s;
  }
  std::vector<std::string> want;
  if (ambient) {
    for (const PodState& pod : state_.pods()) {
      if (pod.namespace_() == ns) want.push_back(absl::StrCat(ns, "/", pod.name()));
    }
    std::sort(want.begin(), want.end());
  }
  const Clock::time_point deadline = Clock::now() + absl::ToChronoMilliseconds(timeout);
  absl::StatusOr<std::vector<std::string>> enrolled;
  while (true) {
    enrolled = EnrolledPods(ns);
    if (enrolled.ok() && *enrolled == want) return absl::OkStatus();
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  const std::string seen = enrolled.ok() ? absl::StrCat("[", absl::StrJoin(*enrolled, ","), "]")
                                         : std::string(enrolled.status().message());
  return absl::DeadlineExceededError(absl::StrCat(
      "namespace ", ns, " labelled ", change, ": enrolled pods still ", seen, " after ",
      absl::FormatDuration(timeout), ", want [", absl::StrJoin(want, ","), "]"));
}

}  // namespace weft::bench
