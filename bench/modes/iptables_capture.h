// The `iptables` comparison mode's capture: the same ztunnel, but a pod's outbound TCP
// reaches its 15001 listener through an iptables nat REDIRECT (what sidecar meshes do)
// instead of weft's cgroup/connect4 program. ztunnel reads the original destination with
// SO_ORIGINAL_DST; weft's cgroup/getsockopt program answers only for sockets it captured
// and leaves conntrack's answer for REDIRECTed ones (bpf/lib/capture_orig_dst.h).
//
// Rules, in the pod netns, table nat (iptables 1.8.9 nft backend, IPv4 only):
//   OUTPUT -p tcp -j WEFT_BENCH_OUTPUT             (inserted first)
//   WEFT_BENCH_OUTPUT -m mark --mark <mark> -j RETURN   ztunnel's own sockets (--mark)
//   WEFT_BENCH_OUTPUT -d <cidr> -j RETURN               each excluded CIDR
//   WEFT_BENCH_OUTPUT -p tcp -j REDIRECT --to-ports <redirect_port>
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weft::bench::modes {

struct IptablesCaptureOptions {
  std::string netns_path;  // the client pod's netns
  uint16_t redirect_port = 15001;
  uint32_t exclude_mark = 1337;  // ztunnel's --mark
  std::vector<std::string> exclude_cidrs = {"127.0.0.0/8"};
  std::string chain = "WEFT_BENCH_OUTPUT";
  std::string iptables_binary = "iptables";
};

class IptablesCapture {
 public:
  // Creates the chain and its rules, then the jump from OUTPUT. Fails (adding nothing) if
  // the chain already exists in that netns. An error names the failing command and quotes
  // iptables' stderr; whatever was added before it is removed again.
  static absl::StatusOr<std::unique_ptr<IptablesCapture>> Install(
      const IptablesCaptureOptions& options);
  // Removes exactly what Install added: the jump, then the chain. Failures are logged.
  ~IptablesCapture();
  IptablesCapture(const IptablesCapture&) = delete;
  IptablesCapture& operator=(const IptablesCapture&) = delete;

  // Removes the rules now; the destructor then has nothing left to do.
  absl::Status Remove();

  // One line for "what this mode includes".
  std::string Describe() const;

 private:
  explicit IptablesCapture(IptablesCaptureOptions options) : options_(std::move(options)) {}
  absl::StatusOr<std::string> Iptables(std::vector<std::string> args) const;
  std::vector<std::string> JumpRule() const;

  IptablesCaptureOptions options_;
  bool chain_created_ = false;
  bool jump_added_ = false;
};

}  // namespace weft::bench::modes
