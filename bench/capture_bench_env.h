// Everything capture_bench runs against, created for one invocation and removed when
// it ends: a pod cgroup (capture + short-circuit attached) and a bare sibling cgroup
// (no weft programs), an enrolled pod netns and an unenrolled one (wcap-<pid>-*), a
// private pin dir (<bpffs>/weft/bench-<pid>), and a ztunnel stand-in listening on
// 127.0.0.1:15001 (+ app ports) in each netns. Pod-side work runs in forked children
// that join a cgroup and a netns, so the benchmark process itself stays outside.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/bpf/capture/capture_program.h"
#include "agent/bpf/inbound/loopback_short_circuit.h"
#include "tests/bpf/capture/capture_test_env.h"

namespace weft::bench {

class CaptureBenchEnv {
 public:
  static absl::StatusOr<std::unique_ptr<CaptureBenchEnv>> Create();
  // Stand-ins first, then programs, then pins, netns and cgroups.
  ~CaptureBenchEnv();

  enum class Where {
    kEnrolledPod,    // pod cgroup, enrolled netns
    kUnenrolledPod,  // pod cgroup, netns not enrolled
    kBareCgroup,     // no weft programs on the client side, enrolled netns
  };
  // Runs `fn` in a child there and returns its output line.
  absl::StatusOr<std::string> RunIn(Where where, const std::function<std::string()>& fn,
                                    int timeout_ms) const;

  int pod_cgroup_fd() const { return pod_cgroup_->fd(); }
  weft::bpf::LoopbackShortCircuit& short_circuit() { return *short_circuit_; }
  const std::string& pin_dir() const { return pin_dir_; }

 private:
  CaptureBenchEnv() = default;
  absl::Status Setup();

  std::string pin_dir_;
  std::unique_ptr<capture_test::TestCgroup> pod_cgroup_;
  std::unique_ptr<capture_test::TestCgroup> bare_cgroup_;
  std::unique_ptr<capture_test::TestNetns> pod_netns_;
  std::unique_ptr<capture_test::TestNetns> other_netns_;
  std::unique_ptr<weft::bpf::capture::CaptureProgram> capture_;
  std::unique_ptr<weft::bpf::LoopbackShortCircuit> short_circuit_;
  std::unique_ptr<capture_test::ZtunnelStandIn> pod_stand_in_;
  std::unique_ptr<capture_test::ZtunnelStandIn> other_stand_in_;
};

}  // namespace weft::bench
