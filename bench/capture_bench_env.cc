#include "bench/capture_bench_env.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/host/mount_table.h"

namespace weft::bench {

using weft::bpf::LoopbackShortCircuit;
using weft::bpf::capture::CaptureOptions;
using weft::bpf::capture::CaptureProgram;
using weft::bpf::capture::CaptureWorkload;

namespace {
constexpr uint32_t kBenchWorkloadId = 7;
}  // namespace

absl::StatusOr<std::unique_ptr<CaptureBenchEnv>> CaptureBenchEnv::Create() {
  std::unique_ptr<CaptureBenchEnv> env(new CaptureBenchEnv());
  // On error the destructor removes whatever was created so far.
  if (absl::Status s = env->Setup(); !s.ok()) return s;
  return env;
}

absl::Status CaptureBenchEnv::Setup() {
  absl::StatusOr<std::string> bpffs = weft::host::EnsureBpffsMounted();
  if (!bpffs.ok()) return bpffs.status();
  pin_dir_ = absl::StrCat(*bpffs, "/weft/bench-", getpid());
  CaptureProgram::Uninstall(pin_dir_).IgnoreError();  // a crashed run with a reused pid

  auto pod_cgroup = capture_test::TestCgroup::Create("bench-pod");
  if (!pod_cgroup.ok()) return pod_cgroup.status();
  pod_cgroup_ = std::move(*pod_cgroup);
  auto bare_cgroup = capture_test::TestCgroup::Create("bench-bare");
  if (!bare_cgroup.ok()) return bare_cgroup.status();
  bare_cgroup_ = std::move(*bare_cgroup);
  auto pod_netns = capture_test::TestNetns::Create("bench-pod");
  if (!pod_netns.ok()) return pod_netns.status();
  pod_netns_ = std::move(*pod_netns);
  auto other_netns = capture_test::TestNetns::Create("bench-other");
  if (!other_netns.ok()) return other_netns.status();
  other_netns_ = std::move(*other_netns);

  CaptureOptions options;
  options.cgroup_root = pod_cgroup_->path();
  options.pin_dir = pin_dir_;
  options.ztunnel_mark = capture_test::kZtunnelMark;
  auto capture = CaptureProgram::Create(options);
  if (!capture.ok()) return capture.status();
  capture_ = std::move(*capture);
  CaptureWorkload workload;
  workload.workload_id = kBenchWorkloadId;
  if (absl::Status s = capture_->Enroll(pod_netns_->cookie(), workload); !s.ok()) return s;
  if (absl::Status s =
          capture_->SetExclusions({capture_test::kExcludedPort},
                                  {capture_test::kExcludedCidr4, capture_test::kExcludedCidr6});
      !s.ok()) {
    return s;
  }

  // Off until a scenario turns it on, so the connection scenarios measure capture only.
  auto short_circuit = LoopbackShortCircuit::Create(
      {.pin_dir = pin_dir_,
       .cgroup_path = pod_cgroup_->path(),
       .ztunnel_cgroup = "",  // the stand-in listener runs in the pod cgroup
       .enabled = false});
  if (!short_circuit.ok()) return short_circuit.status();
  short_circuit_ = std::move(*short_circuit);
  if (absl::Status s = short_circuit_->Enroll(pod_netns_->cookie()); !s.ok()) return s;

  auto pod_stand_in = capture_test::ZtunnelStandIn::Start(*pod_cgroup_, *pod_netns_);
  if (!pod_stand_in.ok()) return pod_stand_in.status();
  pod_stand_in_ = std::move(*pod_stand_in);
  auto other_stand_in = capture_test::ZtunnelStandIn::Start(*pod_cgroup_, *other_netns_);
  if (!other_stand_in.ok()) return other_stand_in.status();
  other_stand_in_ = std::move(*other_stand_in);
  return absl::OkStatus();
}

CaptureBenchEnv::~CaptureBenchEnv() {
  other_stand_in_.reset();
  pod_stand_in_.reset();
  short_circuit_.reset();
  capture_.reset();
  if (!pin_dir_.empty()) {
    if (absl::Status s = LoopbackShortCircuit::Uninstall(pin_dir_); !s.ok()) {
      fprintf(stderr, "capture_bench: cleanup: %s\n", s.ToString().c_str());
    }
    if (absl::Status s = CaptureProgram::Uninstall(pin_dir_); !s.ok()) {
      fprintf(stderr, "capture_bench: cleanup: %s\n", s.ToString().c_str());
    }
    rmdir(pin_dir_.c_str());
  }
  // TestNetns / TestCgroup destructors delete the netns and rmdir the cgroups.
}

absl::StatusOr<std::string> CaptureBenchEnv::RunIn(Where where,
                                                   const std::function<std::string()>& fn,
                                                   int timeout_ms) const {
  switch (where) {
    case Where::kEnrolledPod:
      return capture_test::RunInPod(*pod_cgroup_, *pod_netns_, fn, timeout_ms);
    case Where::kUnenrolledPod:
      return capture_test::RunInPod(*pod_cgroup_, *other_netns_, fn, timeout_ms);
    case Where::kBareCgroup:
      return capture_test::RunInPod(*bare_cgroup_, *pod_netns_, fn, timeout_ms);
  }
  return absl::InternalError("unknown place");
}

}  // namespace weft::bench
