#include "agent/bpf/capture/capture_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/bpf/capture/capture_addr_text.h"
#include "agent/bpf/capture/capture_pins.h"
#include "capture.skel.h"
#include "common/log/logger.h"
#include "common/status/errno_status.h"

namespace weft::bpf::capture {
namespace {

constexpr char kZtunnelSockopsLink[] = "capture_sockops_ztunnel";

// Owns an fd for the duration of a scope.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Deletes every key of `map` not in `keep` (keys compared bytewise).
template <typename Key>
absl::Status DeleteKeysNotIn(bpf_map* map, const std::set<std::string>& keep) {
  std::vector<Key> stale;
  Key key{};
  Key next{};
  Key* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof(Key)) == 0) {
    std::string bytes(reinterpret_cast<const char*>(&next), sizeof(Key));
    if (keep.count(bytes) == 0) stale.push_back(next);
    key = next;
    prev = &key;
  }
  for (const Key& k : stale) {
    if (bpf_map__delete_elem(map, &k, sizeof(Key), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "capture: delete", bpf_map__name(map));
    }
  }
  return absl::OkStatus();
}

template <typename Key>
std::string KeyBytes(const Key& key) {
  return std::string(reinterpret_cast<const char*>(&key), sizeof(Key));
}

}  // namespace

absl::StatusOr<std::unique_ptr<CaptureProgram>> CaptureProgram::Create(CaptureOptions options) {
  if (options.cgroup_root.empty() || options.pin_dir.empty()) {
    return absl::InvalidArgumentError("capture: cgroup_root and pin_dir are required");
  }
  if (options.getsockopt_cgroup.empty()) options.getsockopt_cgroup = options.cgroup_root;
  if (options.outbound_port == 0) {
    return absl::InvalidArgumentError("capture: outbound_port must be 1..65535");
  }
  ::capture* skel = ::capture::open();
  if (skel == nullptr) return ErrnoStatus(errno, "capture: open skeleton", "capture");
  std::unique_ptr<CaptureProgram> program(new CaptureProgram(std::move(options), skel));
  if (absl::Status s = program->Load(); !s.ok()) return s;
  if (absl::Status s = program->WriteSettings(); !s.ok()) return s;
  if (absl::Status s = program->Attach(); !s.ok()) return s;
  log::Info("capture: attached", {{"cgroup", program->options_.cgroup_root},
                                  {"pin_dir", program->options_.pin_dir},
                                  {"reused_maps", program->reused_maps_}});
  return program;
}

CaptureProgram::~CaptureProgram() {
  // Closing our fds leaves the pinned links attached and the pinned maps alive.
  for (::bpf_link* link : links_) bpf_link__destroy(link);
  ::capture::destroy(skel_);
}

absl::Status CaptureProgram::Load() {
  absl::StatusOr<bool> reused =
      ReusePinnedMaps(skel_->obj, MapsDir(options_.pin_dir),
                      bpf_map__name(skel_->maps.capture_settings), CAPTURE_LAYOUT_VERSION);
  if (!reused.ok()) return reused.status();
  reused_maps_ = *reused;
  if (::capture::load(skel_) != 0) return ErrnoStatus(errno, "capture: load", "capture.bpf.o");
  return PinMaps(skel_->obj, MapsDir(options_.pin_dir));
}

absl::Status CaptureProgram::WriteSettings() {
  capture_settings settings{};
  settings.layout_version = CAPTURE_LAYOUT_VERSION;
  settings.outbound_port = options_.outbound_port;
  settings.ztunnel_mark = options_.ztunnel_mark;
  // connect4/6 skip the exclusion maps that are empty. Read from the maps themselves, so
  // that a restart over reused pinned maps keeps applying the exclusions they hold.
  const auto holds_entries = [](const bpf_map* map, auto key) {
    return bpf_map__get_next_key(map, nullptr, &key, sizeof(key)) == 0;
  };
  capture_port_set ports{};
  uint32_t zero = 0;
  if (bpf_map__lookup_elem(skel_->maps.excluded_ports, &zero, sizeof(zero), &ports,
                           sizeof(ports), 0) != 0) {
    return ErrnoStatus(errno, "capture: lookup", "excluded_ports");
  }
  if (std::any_of(std::begin(ports.words), std::end(ports.words), [](uint64_t w) { return w; })) {
    settings.flags |= CAPTURE_SETTINGS_EXCLUDED_PORTS;
  }
  if (holds_entries(skel_->maps.excluded_cidrs4, capture_cidr4_key{})) {
    settings.flags |= CAPTURE_SETTINGS_EXCLUDED_CIDRS4;
  }
  if (holds_entries(skel_->maps.excluded_cidrs6, capture_cidr6_key{})) {
    settings.flags |= CAPTURE_SETTINGS_EXCLUDED_CIDRS6;
  }
  uint32_t key = 0;
  if (bpf_map__update_elem(skel_->maps.capture_settings, &key, sizeof(key), &settings,
                           sizeof(settings), BPF_ANY) != 0) {
    return ErrnoStatus(errno, "capture: update", "capture_settings");
  }
  return absl::OkStatus();
}

absl::Status CaptureProgram::Attach() {
  ScopedFd root(open(options_.cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return ErrnoStatus(errno, "capture: open cgroup", options_.cgroup_root);
  ScopedFd ztunnel(open(options_.getsockopt_cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (ztunnel.get() < 0) return ErrnoStatus(errno, "capture: open cgroup", options_.getsockopt_cgroup);

  struct Attachment {
    bpf_program* prog;
    int cgroup_fd;
    std::string link_name;
  };
  std::vector<Attachment> attachments = {
      {skel_->progs.capture_connect4, root.get(), "capture_connect4"},
      {skel_->progs.capture_connect6, root.get(), "capture_connect6"},
      {skel_->progs.capture_sockops, root.get(), "capture_sockops"},
      {skel_->progs.capture_getsockopt, ztunnel.get(), "capture_getsockopt"},
  };
  // sockops also keeps the original destination on ztunnel's accepted sockets. Only
  // for disjoint cgroups: when one contains the other, a second link would run sockops
  // twice for the sockets below both (an ancestor ztunnel cgroup then relies on the
  // getsockopt fallback to orig_dst).
  const std::string& root_path = options_.cgroup_root;
  const std::string& zt_path = options_.getsockopt_cgroup;
  const bool disjoint = zt_path != root_path && !zt_path.starts_with(root_path + "/") &&
                        !root_path.starts_with(zt_path + "/");
  if (disjoint) {
    attachments.push_back({skel_->progs.capture_sockops, ztunnel.get(), kZtunnelSockopsLink});
  } else if (absl::Status s = DetachPinnedLink(LinksDir(options_.pin_dir), kZtunnelSockopsLink);
             !s.ok()) {
    return s;
  }
  for (const Attachment& a : attachments) {
    absl::StatusOr<::bpf_link*> link =
        AttachOrUpdateCgroupLink(a.prog, a.cgroup_fd, LinksDir(options_.pin_dir), a.link_name);
    if (!link.ok()) return link.status();
    links_.push_back(*link);
  }
  return absl::OkStatus();
}

absl::Status CaptureProgram::Uninstall(const std::string& pin_dir) {
  absl::Status status = RemovePinDir(pin_dir);
  if (status.ok()) log::Info("capture: uninstalled", {{"pin_dir", pin_dir}});
  return status;
}

absl::Status CaptureProgram::Enroll(uint64_t netns_cookie, const CaptureWorkload& workload) {
  if (workload.workload_id >= CAPTURE_MAX_WORKLOADS) {
    return absl::InvalidArgumentError(absl::StrCat("capture: workload_id ", workload.workload_id,
                                                   " out of range (max ", CAPTURE_MAX_WORKLOADS,
                                                   ")"));
  }
  capture_workload value{};
  value.workload_id = workload.workload_id;
  if (workload.pod_ipv4) {
    value.flags |= CAPTURE_WORKLOAD_HAS_IPV4;
    value.pod_ipv4 = workload.pod_ipv4->s_addr;
  }
  if (workload.pod_ipv6) {
    value.flags |= CAPTURE_WORKLOAD_HAS_IPV6;
    std::memcpy(value.pod_ipv6, &*workload.pod_ipv6, sizeof(value.pod_ipv6));
  }
  if (bpf_map__update_elem(skel_->maps.enrolled_netns, &netns_cookie, sizeof(netns_cookie), &value,
                           sizeof(value), BPF_ANY) != 0) {
    return ErrnoStatus(errno, "capture: update", "enrolled_netns");
  }
  return absl::OkStatus();
}

absl::Status CaptureProgram::Unenroll(uint64_t netns_cookie) {
  if (bpf_map__delete_elem(skel_->maps.enrolled_netns, &netns_cookie, sizeof(netns_cookie), 0) !=
      0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("capture: netns ", netns_cookie, " not enrolled"));
    }
    return ErrnoStatus(errno, "capture: delete", "enrolled_netns");
  }
  return absl::OkStatus();
}

absl::Status CaptureProgram::SetExclusions(const std::vector<uint16_t>& ports,
                                           const std::vector<std::string>& cidrs) {
  // Parse everything first so that a bad entry changes nothing.
  std::vector<Cidr> parsed;
  for (const std::string& text : cidrs) {
    absl::StatusOr<Cidr> cidr = ParseCidr(text);
    if (!cidr.ok()) return cidr.status();
    parsed.push_back(*cidr);
  }
  if (ports.size() > CAPTURE_MAX_EXCLUDED_PORTS || parsed.size() > CAPTURE_MAX_EXCLUDED_CIDRS) {
    return absl::InvalidArgumentError("capture: too many excluded ports or CIDRs");
  }
  const uint32_t one = 1;
  std::set<std::string> keep4, keep6;
  capture_port_set port_set{};
  for (uint16_t port : ports) port_set.words[port >> 6] |= uint64_t{1} << (port & 63);
  const uint32_t zero = 0;
  if (bpf_map__update_elem(skel_->maps.excluded_ports, &zero, sizeof(zero), &port_set,
                           sizeof(port_set), BPF_ANY) != 0) {
    return ErrnoStatus(errno, "capture: update", "excluded_ports");
  }
  for (const Cidr& cidr : parsed) {
    int rc;
    if (cidr.family == 4) {
      capture_cidr4_key key{};
      key.prefixlen = cidr.prefixlen;
      std::memcpy(&key.addr, cidr.addr, 4);
      rc = bpf_map__update_elem(skel_->maps.excluded_cidrs4, &key, sizeof(key), &one, sizeof(one),
                                BPF_ANY);
      keep4.insert(KeyBytes(key));
    } else {
      capture_cidr6_key key{};
      key.prefixlen = cidr.prefixlen;
      std::memcpy(key.addr, cidr.addr, 16);
      rc = bpf_map__update_elem(skel_->maps.excluded_cidrs6, &key, sizeof(key), &one, sizeof(one),
                                BPF_ANY);
      keep6.insert(KeyBytes(key));
    }
    if (rc != 0) return ErrnoStatus(errno, "capture: update", "excluded_cidrs");
  }
  if (absl::Status s = DeleteKeysNotIn<capture_cidr4_key>(skel_->maps.excluded_cidrs4, keep4);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = DeleteKeysNotIn<capture_cidr6_key>(skel_->maps.excluded_cidrs6, keep6);
      !s.ok()) {
    return s;
  }
  // Last, once the maps hold the new sets: which of them connect4/6 must look at.
  return WriteSettings();
}

absl::StatusOr<WorkloadStats> CaptureProgram::ReadWorkloadStats(uint32_t workload_id) const {
  if (workload_id >= CAPTURE_MAX_WORKLOADS) {
    return absl::InvalidArgumentError(
        absl::StrCat("capture: workload_id ", workload_id, " out of range"));
  }
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return ErrnoStatus(-ncpu, "capture: libbpf_num_possible_cpus", "");
  std::vector<capture_stats> per_cpu(ncpu);
  if (bpf_map__lookup_elem(skel_->maps.workload_stats, &workload_id, sizeof(workload_id),
                           per_cpu.data(), per_cpu.size() * sizeof(capture_stats), 0) != 0) {
    return ErrnoStatus(errno, "capture: lookup", "workload_stats");
  }
  WorkloadStats total;
  for (const capture_stats& s : per_cpu) {
    total.captured += s.captured;
    total.passed += s.passed;
    total.denied += s.denied;
    total.errors += s.errors;
    for (int i = 0; i < CAPTURE_HIST_BUCKETS; ++i) {
      total.connect_latency_ns[i] += s.connect_latency_ns[i];
      total.srtt_us[i] += s.srtt_us[i];
    }
  }
  return total;
}

absl::StatusOr<std::vector<EnrolledNetnsEntry>> CaptureProgram::ListEnrolled() const {
  std::vector<EnrolledNetnsEntry> entries;
  uint64_t key = 0, next = 0;
  uint64_t* prev = nullptr;
  while (bpf_map__get_next_key(skel_->maps.enrolled_netns, prev, &next, sizeof(next)) == 0) {
    capture_workload value{};
    if (bpf_map__lookup_elem(skel_->maps.enrolled_netns, &next, sizeof(next), &value,
                             sizeof(value), 0) == 0) {
      entries.push_back({next, value.workload_id});
    }
    key = next;
    prev = &key;
  }
  return entries;
}

PolicyMapHandles CaptureProgram::policy_maps() const {
  return {skel_->maps.policy_dst_v4, skel_->maps.policy_dst_v6, skel_->maps.policy_verdicts};
}

absl::StatusOr<std::vector<PolicyDenials>> CaptureProgram::ReadPolicyDenials() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return ErrnoStatus(-ncpu, "capture: libbpf_num_possible_cpus", "");
  std::vector<PolicyDenials> out;
  std::vector<uint64_t> per_cpu(ncpu);
  capture_policy_deny_key key{}, next{};
  capture_policy_deny_key* prev = nullptr;
  while (bpf_map__get_next_key(skel_->maps.policy_deny_counts, prev, &next, sizeof(next)) == 0) {
    if (bpf_map__lookup_elem(skel_->maps.policy_deny_counts, &next, sizeof(next), per_cpu.data(),
                             per_cpu.size() * sizeof(uint64_t), 0) == 0) {
      uint64_t total = 0;
      for (uint64_t v : per_cpu) total += v;
      out.push_back({next.workload_id, next.policy_id, total});
    }
    key = next;
    prev = &key;
  }
  return out;
}

absl::Status CaptureProgram::PrunePolicyDenials(const std::vector<PolicyDenials>& keep) {
  absl::StatusOr<std::vector<PolicyDenials>> now = ReadPolicyDenials();
  if (!now.ok()) return now.status();
  for (const PolicyDenials& d : *now) {
    bool kept = false;
    for (const PolicyDenials& k : keep) {
      kept |= k.workload_id == d.workload_id && k.policy_id == d.policy_id;
    }
    if (kept) continue;
    capture_policy_deny_key key{d.workload_id, d.policy_id};
    if (bpf_map__delete_elem(skel_->maps.policy_deny_counts, &key, sizeof(key), 0) != 0 &&
        errno != ENOENT) {
      return ErrnoStatus(errno, "capture: delete", "policy_deny_counts");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OrigDstEntry>> CaptureProgram::DumpOrigDst() const {
  std::vector<OrigDstEntry> entries;
  capture_conn_key key{}, next{};
  capture_conn_key* prev = nullptr;
  while (bpf_map__get_next_key(skel_->maps.orig_dst, prev, &next, sizeof(next)) == 0) {
    capture_orig_dst value{};
    // An entry may vanish between get_next_key and lookup when its socket closes.
    if (bpf_map__lookup_elem(skel_->maps.orig_dst, &next, sizeof(next), &value, sizeof(value), 0) ==
        0) {
      entries.push_back(OrigDstEntry{next.netns_cookie, FormatEndpoint(next.addr, next.port),
                                     FormatEndpoint(value.addr, value.port), value.workload_id});
    }
    key = next;
    prev = &key;
  }
  return entries;
}

}  // namespace weft::bpf::capture
