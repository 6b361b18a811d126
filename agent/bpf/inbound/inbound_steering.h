// Loader and controller of the inbound sk_lookup program (bpf/inbound.bpf.c): one
// loaded program, one bpf_link per enrolled pod netns, pinned at
// `<pin_dir>/inbound/<netns cookie>` so a restarted agent finds and updates it in place.
// Maps are pinned under `<pin_dir>/inbound/maps_v<INBOUND_LAYOUT_VERSION>/` and reused
// by the next agent when the layout version matches.
//
// What the program does per pod netns: TCP to one of the pod's addresses, on any port
// but 15008 and the excluded ones, from outside the pod, goes to the 15006 listener
// ztunnel registered (PERMISSIVE) or is dropped (STRICT).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/bpf/inbound/pod_address.h"
#include "bpf/inbound.h"

struct inbound;  // bpftool skeleton (inbound.skel.h)
struct bpf_link;

namespace weft::bpf {

enum class InboundMode : uint32_t {
  kPermissive = INBOUND_MODE_PERMISSIVE,
  kStrict = INBOUND_MODE_STRICT,
};

struct InboundCounters {
  uint64_t steered = 0;
  uint64_t dropped = 0;
  uint64_t passed = 0;
  uint64_t no_listener = 0;
};

class InboundSteering {
 public:
  // Opens and loads the program (reusing pinned maps of the same layout) and adopts
  // links pinned by a previous agent, switching them to the new program. Links whose
  // netns no longer exists are unpinned.
  static absl::StatusOr<std::unique_ptr<InboundSteering>> Create(const std::string& pin_dir);

  // Closes fds only: pinned links and maps stay, traffic keeps being steered.
  ~InboundSteering();
  InboundSteering(const InboundSteering&) = delete;
  InboundSteering& operator=(const InboundSteering&) = delete;

  // Starts steering in the netns `netns_fd` refers to; returns its cookie, the handle
  // for every other call. Idempotent for an already attached netns (mode updated).
  absl::StatusOr<uint64_t> Attach(int netns_fd, InboundMode mode);
  // Unpins and destroys the link and forgets every map entry of the netns.
  absl::Status Detach(uint64_t netns_cookie);

  absl::Status SetMode(uint64_t netns_cookie, InboundMode mode);
  absl::Status AddPodAddress(uint64_t netns_cookie, const PodAddress& address);
  absl::Status RemovePodAddress(const PodAddress& address);
  // Port never steered nor dropped; netns_cookie 0 applies to every netns.
  absl::Status ExcludePort(uint64_t netns_cookie, uint16_t port);
  absl::Status RemovePortExclusion(uint64_t netns_cookie, uint16_t port);
  // Registers ztunnel's plaintext inbound listener of the netns. An IPv4 listener
  // serves IPv4 connections; an IPv6 one IPv6, and IPv4 too unless IPV6_V6ONLY. The
  // kernel drops the registration when the listener closes.
  absl::Status RegisterListener(uint64_t netns_cookie, int listener_fd);

  absl::StatusOr<InboundCounters> Counters(uint64_t netns_cookie) const;
  std::vector<uint64_t> AttachedNetns() const;

  // The sk_lookup program, for BPF_PROG_TEST_RUN and bpftool-style introspection.
  int lookup_program_fd() const;

  // Removes everything this family pinned under pin_dir (links detach once no process
  // holds them). Call after destroying every InboundSteering of that pin_dir.
  static absl::Status Uninstall(const std::string& pin_dir);

 private:
  explicit InboundSteering(std::string family_dir) : family_dir_(std::move(family_dir)) {}

  absl::Status Open();
  absl::Status Load();
  absl::Status AdoptPinnedLinks();
  absl::Status ForgetNetnsEntries(uint64_t netns_cookie);
  std::string LinkPath(uint64_t netns_cookie) const;

  std::string family_dir_;
  inbound* skel_ = nullptr;
  std::map<uint64_t, bpf_link*> links_;  // by netns cookie
};

}  // namespace weft::bpf
