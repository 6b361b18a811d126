// CaptureProgram: the one owner of the outbound-capture BPF family (bpf/capture.bpf.c)
// in the agent. It loads the skeleton, adopts or creates the maps pinned under the
// instance's pin dir, attaches connect4/connect6/sockops at the cgroup root and
// getsockopt at ztunnel's cgroup as pinned bpf_links (updated in place when a
// previous agent left them), and is the only writer of enrollment and exclusions.
//
// Destroying the object closes fds only: links and maps stay pinned, so pods stay
// captured while the agent restarts. Uninstall() is what removes everything.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/bpf/capture/capture_types.h"

struct capture;  // bpftool-generated skeleton (capture.skel.h)
struct bpf_link;

namespace weft::bpf::capture {

class CaptureProgram {
 public:
  static absl::StatusOr<std::unique_ptr<CaptureProgram>> Create(CaptureOptions options);

  // Detaches every link pinned under `pin_dir` and removes all its pinned objects.
  static absl::Status Uninstall(const std::string& pin_dir);

  ~CaptureProgram();
  CaptureProgram(const CaptureProgram&) = delete;
  CaptureProgram& operator=(const CaptureProgram&) = delete;

  // Captures TCP connects of sockets in the netns with this cookie from now on;
  // replaces a previous enrollment of the same netns. Established connections are
  // not touched.
  absl::Status Enroll(uint64_t netns_cookie, const CaptureWorkload& workload);
  // NotFound when the netns was not enrolled.
  absl::Status Unenroll(uint64_t netns_cookie);

  // Replaces the excluded destination ports and CIDRs ("10.0.0.0/8", "fd00::/8",
  // a bare address means /32 or /128). InvalidArgument names the bad entry, and
  // then nothing is changed.
  absl::Status SetExclusions(const std::vector<uint16_t>& ports,
                             const std::vector<std::string>& cidrs);

  absl::StatusOr<WorkloadStats> ReadWorkloadStats(uint32_t workload_id) const;

  // What enrolled_netns holds now, e.g. left by a previous agent process.
  absl::StatusOr<std::vector<EnrolledNetnsEntry>> ListEnrolled() const;

  // The in-kernel L4 policy maps (bpf/lib/policy_maps.h) of this object, for the
  // agent's policy map writer; owned by the skeleton.
  PolicyMapHandles policy_maps() const;
  // Denied connects by (workload_id, policy_id), summed over CPUs.
  absl::StatusOr<std::vector<PolicyDenials>> ReadPolicyDenials() const;
  // Drops the counters of pairs that are not in `keep` (policies or workloads gone).
  absl::Status PrunePolicyDenials(const std::vector<PolicyDenials>& keep);
  absl::StatusOr<std::vector<OrigDstEntry>> DumpOrigDst() const;

  // Whether Create adopted maps a previous agent had pinned (state survived).
  bool reused_pinned_maps() const { return reused_maps_; }
  const CaptureOptions& options() const { return options_; }

 private:
  CaptureProgram(CaptureOptions options, ::capture* skel)
      : options_(std::move(options)), skel_(skel) {}

  absl::Status Load();
  absl::Status WriteSettings();
  absl::Status Attach();

  CaptureOptions options_;
  ::capture* skel_;
  std::vector<::bpf_link*> links_;
  bool reused_maps_ = false;
};

}  // namespace weft::bpf::capture
