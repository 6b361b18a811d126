// Test fixtures for the capture family: a private network namespace and cgroup per
// test, a "ztunnel" stand-in that reports SO_ORIGINAL_DST, and pod-side clients run
// in forked children that joined both. Everything is named wcap-<pid>-<tag> and
// removed on destruction, also when a test fails half-way.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft::capture_test {

inline constexpr uint16_t kOutboundPort = 15001;
inline constexpr uint16_t kAppPort = 9000;       // app listener, captured when not excluded
inline constexpr uint16_t kExcludedPort = 9443;  // app listener on an excluded port
inline constexpr uint32_t kZtunnelMark = 0x5eed;

// Pod addresses configured on the netns' veth (all local, so uncaptured connects
// reach the app listener and say so).
inline constexpr char kPodIpv4[] = "10.77.0.5";
inline constexpr char kPodIpv6[] = "fd77::5";
inline constexpr char kOtherLocalIpv4[] = "10.66.0.3";  // local, not excluded
inline constexpr char kOtherLocalIpv6[] = "fd66::3";
inline constexpr char kExcludedCidr4[] = "10.88.0.0/16";
inline constexpr char kExcludedIpv4[] = "10.88.0.9";  // local, inside kExcludedCidr4
inline constexpr char kExcludedCidr6[] = "fd88::/32";
inline constexpr char kExcludedIpv6[] = "fd88::9";

// Runs a shell command (iproute2); error with its exit status.
absl::Status Sh(const std::string& command);

// "wcap-<pid>-<tag>"
std::string UniqueName(const std::string& tag);

class TestNetns {
 public:
  static absl::StatusOr<std::unique_ptr<TestNetns>> Create(const std::string& tag);
  ~TestNetns();
  const std::string& name() const { return name_; }
  int fd() const { return fd_; }
  uint64_t cookie() const { return cookie_; }

 private:
  explicit TestNetns(std::string name) : name_(std::move(name)) {}
  std::string name_;
  int fd_ = -1;
  uint64_t cookie_ = 0;
};

class TestCgroup {
 public:
  static absl::StatusOr<std::unique_ptr<TestCgroup>> Create(const std::string& tag);
  ~TestCgroup();
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  explicit TestCgroup(std::string path) : path_(std::move(path)) {}
  std::string path_;
  int fd_ = -1;
};

// Moves the calling (child) process into `cgroup` and its thread into `netns`.
absl::Status EnterPod(const TestCgroup& cgroup, const TestNetns& netns);

// Runs `fn` in a forked child inside the pod and returns what it returned; an error
// when the child dies, or is killed after `timeout_ms`.
absl::StatusOr<std::string> RunInPod(const TestCgroup& cgroup, const TestNetns& netns,
                                     const std::function<std::string()>& fn,
                                     int timeout_ms = 20000);

// A forked child in the pod listening on 0.0.0.0:15001 and [::1]:15001 (answers
// "Z <original dst>\n", or "Z none\n", from getsockopt SO_ORIGINAL_DST) and on
// [::]:kAppPort / [::]:kExcludedPort (answers "A <local address>\n"); then echoes
// until EOF. Every greeting is also reported to the test (NextReport), even when the
// client is already gone. `accept_delay_ms` makes it a slow acceptor. Killed on
// destruction.
class ZtunnelStandIn {
 public:
  static absl::StatusOr<std::unique_ptr<ZtunnelStandIn>> Start(const TestCgroup& cgroup,
                                                               const TestNetns& netns,
                                                               int accept_delay_ms = 0);
  ~ZtunnelStandIn();
  // The next greeting line (without "\n"); DeadlineExceeded after `timeout_ms`.
  absl::StatusOr<std::string> NextReport(int timeout_ms = 5000);

 private:
  ZtunnelStandIn(pid_t pid, int reports) : pid_(pid), reports_(reports) {}
  pid_t pid_;
  int reports_;
};

// A pod-side connection kept open across a change (unenroll, agent restart): a
// forked child connects and reports the greeting line, then waits until told to
// exchange `payload` once more.
class HeldConnection {
 public:
  static absl::StatusOr<std::unique_ptr<HeldConnection>> Open(const TestCgroup& cgroup,
                                                              const TestNetns& netns,
                                                              const std::string& ip, uint16_t port);
  ~HeldConnection();
  const std::string& greeting() const { return greeting_; }
  // Sends payload, checks the echo, closes; "OK" or what went wrong.
  absl::StatusOr<std::string> EchoAndClose(const std::string& payload);

 private:
  HeldConnection(pid_t pid, int to_child, int from_child)
      : pid_(pid), to_child_(to_child), from_child_(from_child) {}
  pid_t pid_;
  int to_child_;
  int from_child_;
  std::string greeting_;
};

// Parses "10.0.0.1" / "fd00::1" / "::ffff:10.0.0.1" into a sockaddr with `port`.
sockaddr_storage Endpoint(const std::string& ip, uint16_t port, socklen_t* len);

// In the pod: connect to ip:port (socket family from the address; mark if nonzero),
// read one line, optionally send `payload` and check the echo. Returns the line
// without "\n" ("Z 10.99.0.7:8080", "A 10.77.0.5:9000"), "ERR <errno name>" when
// connect fails, or "ECHO-MISMATCH".
std::string ConnectAndRead(const std::string& ip, uint16_t port, uint32_t mark = 0,
                           const std::string& payload = "");

}  // namespace weft::capture_test
