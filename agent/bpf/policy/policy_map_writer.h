// Applies a CompiledPolicyMaps to the kernel's policy maps by diffing against
// their current contents (delete, add, update only what changed), and reads them
// back for dumps. The maps come from whichever skeleton owns them (capture in the
// product, the policy harness in tests): PolicyMapsOf(skeleton).
//
// Apply is not atomic: while it runs a connect() may see some old and some new
// entries. Order keeps the window harmless where it can: stale addresses go
// first (a miss is DEFER), verdicts are written before the addresses that lead
// to them.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/bpf/policy/policy_compiler.h"
#include "bpf/policy.h"

struct bpf_map;

namespace weft::bpf::policy {

struct PolicyMaps {
  struct bpf_map* dst_v4 = nullptr;
  struct bpf_map* dst_v6 = nullptr;
  struct bpf_map* verdicts = nullptr;
};

// Any skeleton whose object includes bpf/lib/policy_maps.h.
template <typename Skeleton>
PolicyMaps PolicyMapsOf(Skeleton* skeleton) {
  return {skeleton->maps.policy_dst_v4, skeleton->maps.policy_dst_v6,
          skeleton->maps.policy_verdicts};
}

struct PolicyMapDump {
  std::vector<std::pair<weft_policy_dst_v4_key, weft_policy_dst_value>> dst_v4;
  std::vector<std::pair<weft_policy_dst_v6_key, weft_policy_dst_value>> dst_v6;
  std::vector<std::pair<weft_policy_verdict_key, weft_policy_verdict_value>> verdicts;
};

struct PolicyMapSyncStats {
  size_t added = 0;
  size_t updated = 0;
  size_t deleted = 0;
  size_t unchanged = 0;
};

// The single writer of the policy maps. The first Apply reads what the maps
// hold (pinned maps adopted after an agent restart may hold anything) and
// diffs against that; later ones diff against what this writer last wrote, so
// an unchanged snapshot costs no syscalls. A failed Apply forgets that record:
// the next one reads the kernel again.
class PolicyMapWriter {
 public:
  // Fails when a map is missing or its key/value sizes are not bpf/policy.h's.
  static absl::StatusOr<std::unique_ptr<PolicyMapWriter>> Create(PolicyMaps maps);

  absl::StatusOr<PolicyMapSyncStats> Apply(const CompiledPolicyMaps& compiled);

  // Makes the next Apply read the maps again (someone else wrote to them).
  void ForgetContents() { known_ = false; }

 private:
  explicit PolicyMapWriter(PolicyMaps maps) : maps_(maps) {}
  PolicyMaps maps_;
  bool known_ = false;
  // Last written contents of dst_v4, dst_v6, verdicts as raw key -> value bytes.
  std::map<std::string, std::string> written_[3];
};

// Every entry of the three maps, in the kernel's iteration order.
absl::StatusOr<PolicyMapDump> ReadPolicyMaps(const PolicyMaps& maps);

}  // namespace weft::bpf::policy
