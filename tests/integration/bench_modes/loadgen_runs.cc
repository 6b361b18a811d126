#include "tests/integration/bench_modes/loadgen_runs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/integration/lab/lab_test_support.h"

namespace weft::bench::modes::testing {
namespace {

double Number(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? -1 : it->second.number_value();
}

}  // namespace

std::unique_ptr<LoadgenServer> LoadgenServer::Start(const std::string& listen,
                                                    const std::string& netns_path,
                                                    const std::string& cgroup, std::string* error) {
  std::vector<std::string> argv = {WEFT_LOADGEN, "server",  "--listen", listen,          "--mode",
                                   "echo",       "--netns", netns_path, "--max-seconds", "110"};
  if (!cgroup.empty()) {
    argv.push_back("--cgroup");
    argv.push_back(cgroup);
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe failed";
    return nullptr;
  }
  std::vector<char*> args;  // built before the fork: the child only calls async-signal-safe code
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (pid < 0) {
    ::close(out[0]);
    *error = "fork failed";
    return nullptr;
  }
  std::unique_ptr<LoadgenServer> server(new LoadgenServer(pid));
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.find("listening") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[512];
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);  // it keeps running; later writes go nowhere (SIGPIPE is its problem)
  if (seen.find("listening") == std::string::npos) {
    *error = "weft-loadgen server did not start: " + seen;
    return nullptr;
  }
  return server;
}

LoadgenServer::~LoadgenServer() {
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

RrRun RunRrClient(const std::string& target, const std::string& netns_path,
                  const std::string& cgroup) {
  std::vector<std::string> argv = {
      WEFT_LOADGEN, "client",   "--target",      target,    "--scenario", "rr",
      "--size",     "1024",     "--connections", "1",       "--closed",   "--duration",
      "1",          "--warmup", "0.2",           "--netns", netns_path,   "--json"};
  if (!cgroup.empty()) {
    argv.push_back("--cgroup");
    argv.push_back(cgroup);
  }
  weft::lab::testing::ProcessResult r = weft::lab::testing::RunProcess(argv, 20);
  RrRun run;
  run.exit_code = r.exit_code;
  run.raw = r.out + r.err;
  google::protobuf::Struct report;
  if (!google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) return run;
  run.count = Number(report, "count");
  run.error_total = Number(report, "error_total");
  auto latency = report.fields().find("latency_ns");
  if (latency != report.fields().end()) {
    run.p50_us = Number(latency->second.struct_value(), "p50") / 1000.0;
    run.p99_us = Number(latency->second.struct_value(), "p99") / 1000.0;
  }
  return run;
}

}  // namespace weft::bench::modes::testing
