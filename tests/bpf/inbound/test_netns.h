// Helpers for the inbound BPF tests: named network namespaces the test creates and
// deletes (iproute2), running code inside one, sockets with bounded connects, and a
// private bpffs pin directory.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft::bpf::testing {

// Runs a shell command; an error with its output when it exits non-zero.
absl::Status Sh(const std::string& command);

// "winb-<pid>-<n>-<tag>": unique per process and per call.
std::string UniqueName(const std::string& tag);

// A network namespace made with `ip netns add`, deleted (with its devices) on
// destruction. fd() stays valid for the object's lifetime.
class TestNetns {
 public:
  static absl::StatusOr<std::unique_ptr<TestNetns>> Create(const std::string& tag);
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  const std::string& name() const { return name_; }
  int fd() const { return fd_; }
  // `ip -n <name> <args>`.
  absl::Status Ip(const std::string& args) const;
  // Runs fn on a thread that has entered this netns; sockets made there stay in it.
  void Run(const std::function<void()>& fn) const;

 private:
  explicit TestNetns(std::string name) : name_(std::move(name)) {}
  std::string name_;
  int fd_ = -1;
};

// Socket address from "ip" + port.
sockaddr_storage Addr(const std::string& ip, uint16_t port);
std::string AddrToString(const sockaddr_storage& addr);
bool SameAddr(const sockaddr_storage& a, const sockaddr_storage& b);

// TCP listener bound to ip:port (port 0: any), made in `ns` (nullptr: current netns).
absl::StatusOr<int> Listen(const TestNetns* ns, const std::string& ip, uint16_t port,
                           bool v6only = true);
// Non-blocking connect from a socket made in `ns`, waiting up to timeout_ms; on
// success the fd (blocking again), else the errno as a status (ETIMEDOUT on timeout).
absl::StatusOr<int> Connect(const TestNetns* ns, const sockaddr_storage& to, int timeout_ms);
// accept() waiting up to timeout_ms.
absl::StatusOr<int> Accept(int listener, int timeout_ms);
uint64_t SocketCookie(int fd);
sockaddr_storage LocalAddr(int fd);

// A fresh directory under the bpffs mount, removed (with its pins) on destruction.
class TestPinDir {
 public:
  TestPinDir();
  ~TestPinDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace weft::bpf::testing
