// Test processes placed inside a lab pod: a forked child that joins the pod's cgroup (so
// the agent's cgroup programs see its sockets as the pod's) and enters the pod's network
// namespace, then runs one of the roles below, driven line by line over a socketpair.
//
// Roles (each a loop in the child; the parent only sends commands and reads replies):
// - StandInZtunnel: listens on 127.0.0.1:15001, and for each accepted connection reads
//   SO_ORIGINAL_DST, answers "ztunnel <ip>:<port>\n" on the connection, reports
//   "orig <ip>:<port>" on the channel, then echoes bytes.
// - EchoServer: listens on 0.0.0.0:<ports>, answers "server\n", then echoes bytes.
// - PodClient: a command interpreter (see kPodClientCommands in pod_process.cc).
//
// Every child is bounded: it dies with the test (PR_SET_PDEATHSIG), after `lifetime_s`
// (alarm), and is killed and reaped when its PodProcess is destroyed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace weft::agent::testing {

struct PodPlacement {
  std::string netns;   // /run/netns/<netns>
  std::string cgroup;  // absolute cgroup directory to join; empty: stay where the test is
};

class PodProcess {
 public:
  // Forks; the child joins `placement` and runs `body(channel_fd)`, exiting with its result.
  // nullptr when the fork or socketpair fails.
  static std::unique_ptr<PodProcess> Start(const PodPlacement& placement,
                                           std::function<int(int channel)> body,
                                           int lifetime_s = 120);
  ~PodProcess();
  PodProcess(const PodProcess&) = delete;
  PodProcess& operator=(const PodProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Send(const std::string& line);
  // The next line from the child (without '\n'); nullopt after `timeout_ms` or on EOF.
  std::optional<std::string> ReadLine(int timeout_ms);
  // Send + ReadLine.
  std::optional<std::string> Call(const std::string& line, int timeout_ms = 5000);

 private:
  PodProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_;
  int fd_;
  std::string buffer_;
};

// Child bodies.
int RunStandInZtunnel(int channel);
int RunEchoServer(int channel, std::vector<uint16_t> ports);
int RunPodClient(int channel);

// Starts a stand-in ztunnel / echo server and waits for its "ready" line; nullptr on failure.
std::unique_ptr<PodProcess> StartStandInZtunnel(const PodPlacement& placement);
std::unique_ptr<PodProcess> StartEchoServer(const PodPlacement& placement,
                                            std::vector<uint16_t> ports);
std::unique_ptr<PodProcess> StartPodClient(const PodPlacement& placement);

}  // namespace weft::agent::testing
