// Loader and switch of the loopback short-circuit (bpf/shortcircuit.bpf.c): a sockops
// program at a cgroup puts established loopback TCP sockets of enrolled pod netns into
// a SOCKHASH, and an sk_msg program on that SOCKHASH hands each send to the peer
// socket, so bytes between an application and ztunnel skip the TCP/IP stack.
//
// Pins: `<pin_dir>/shortcircuit/sockops` (the cgroup bpf_link), `.../sockops_ztunnel`
// (the same program at ztunnel's cgroup, when that lies outside cgroup_path) and
// `<pin_dir>/shortcircuit/maps_v<SHORTCIRCUIT_LAYOUT_VERSION>/` (maps; the sk_msg
// program is attached to the pinned SOCKHASH itself, so it lives as long as the map).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bpf/shortcircuit.h"

struct shortcircuit;  // bpftool skeleton (shortcircuit.skel.h)
struct bpf_link;

namespace weft::bpf {

struct ShortCircuitStats {
  uint64_t added = 0;       // sockets put into the sockhash
  uint64_t add_failed = 0;  // sockhash full
  uint64_t redirected = 0;  // sendmsg calls handed to the peer
  uint64_t no_peer = 0;     // sends that went over TCP: peer not in the sockhash
};

class LoopbackShortCircuit {
 public:
  struct Options {
    std::string pin_dir;      // the agent's bpffs directory
    std::string cgroup_path;  // where sockops attaches (the agent's cgroup root)
    // ztunnel's cgroup (the agent's --getsockopt-cgroup). Both ends of an app ↔ ztunnel
    // connection must be in the SOCKHASH, so when ztunnel runs outside cgroup_path the
    // sockops program attaches there too. Empty or inside cgroup_path: nothing extra.
    std::string ztunnel_cgroup;
    bool enabled = true;  // false: loaded and pinned maps kept, nothing attached
  };

  // Opens and loads (reusing pinned maps of the same layout), then attaches or
  // detaches according to options.enabled, adopting a pinned link of a previous agent.
  static absl::StatusOr<std::unique_ptr<LoopbackShortCircuit>> Create(const Options& options);

  // Closes fds only: the pinned link and maps stay.
  ~LoopbackShortCircuit();
  LoopbackShortCircuit(const LoopbackShortCircuit&) = delete;
  LoopbackShortCircuit& operator=(const LoopbackShortCircuit&) = delete;

  // Disabling detaches both programs and empties the sockhash, which returns every
  // socket in it to the normal TCP path; connections stay up.
  absl::Status SetEnabled(bool enabled);
  bool enabled() const { return !attach_points_.empty() && attach_points_[0].link != nullptr; }

  // Only sockets of enrolled netns are ever put into the sockhash.
  absl::Status Enroll(uint64_t netns_cookie);
  absl::Status Unenroll(uint64_t netns_cookie);

  // Sockets currently in the sockhash (each end of a connection is one entry).
  std::vector<shortcircuit_sock_key> Sockets() const;
  absl::StatusOr<ShortCircuitStats> Stats() const;

  // Removes everything this family pinned under pin_dir. Call after destroying every
  // LoopbackShortCircuit of that pin_dir.
  static absl::Status Uninstall(const std::string& pin_dir);

 private:
  // A cgroup the sockops program attaches to, and the pin of its link.
  struct AttachPoint {
    std::string cgroup_path;
    std::string link_path;
    bpf_link* link = nullptr;
  };

  explicit LoopbackShortCircuit(std::string family_dir) : family_dir_(std::move(family_dir)) {}

  absl::Status Open();
  absl::Status Load();
  absl::Status Attach();
  absl::Status Detach();
  absl::Status AttachAt(AttachPoint& point);
  static absl::Status DetachAt(AttachPoint& point);

  std::string family_dir_;
  std::vector<AttachPoint> attach_points_;  // the cgroup root first
  shortcircuit* skel_ = nullptr;
};

}  // namespace weft::bpf
