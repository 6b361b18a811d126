#include "agent/bpf/inbound/loopback_short_circuit.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "agent/bpf/inbound/bpffs_pins.h"
#include "common/log/logger.h"
#include "shortcircuit.skel.h"

namespace weft::bpf {
namespace {

constexpr char kFamily[] = "shortcircuit";

}  // namespace

absl::StatusOr<std::unique_ptr<LoopbackShortCircuit>> LoopbackShortCircuit::Create(
    const Options& options) {
  std::unique_ptr<LoopbackShortCircuit> sc(
      new LoopbackShortCircuit(absl::StrCat(options.pin_dir, "/", kFamily)));
  sc->attach_points_.push_back({options.cgroup_path, sc->family_dir_ + "/sockops"});
  // Same rule as the capture's sockops: a second link only for disjoint cgroups, else
  // sockets below both would run the program twice.
  const std::string& root = options.cgroup_path;
  const std::string& zt = options.ztunnel_cgroup;
  const bool disjoint = !zt.empty() && zt != root && !zt.starts_with(root + "/") &&
                        !root.starts_with(zt + "/");
  AttachPoint ztunnel{zt, sc->family_dir_ + "/sockops_ztunnel"};
  if (disjoint) {
    sc->attach_points_.push_back(std::move(ztunnel));
  } else if (absl::Status s = DetachAt(ztunnel); !s.ok()) {  // a pin of an earlier setup
    return s;
  }
  if (absl::Status s = sc->Open(); !s.ok()) return s;
  if (absl::Status s = sc->Load(); !s.ok()) return s;
  if (absl::Status s = options.enabled ? sc->Attach() : sc->Detach(); !s.ok()) return s;
  if (absl::Status s = RemoveStaleMapDirs(sc->family_dir_, SHORTCIRCUIT_LAYOUT_VERSION); !s.ok()) {
    return s;
  }
  return sc;
}

LoopbackShortCircuit::~LoopbackShortCircuit() {
  for (AttachPoint& point : attach_points_) {
    if (point.link != nullptr) bpf_link__destroy(point.link);  // fd only; pin remains
  }
  if (skel_ != nullptr) shortcircuit::destroy(skel_);
}

absl::Status LoopbackShortCircuit::Open() {
  skel_ = shortcircuit::open();
  if (skel_ == nullptr) return ErrnoStatus(errno, "open BPF skeleton", kFamily);
  return PinMapsUnder(skel_->obj, MapsDir(family_dir_, SHORTCIRCUIT_LAYOUT_VERSION));
}

absl::Status LoopbackShortCircuit::Load() {
  if (int err = shortcircuit::load(skel_); err != 0) {
    return ErrnoStatus(err, "load BPF skeleton (maps pinned under the same layout version?)",
                       MapsDir(family_dir_, SHORTCIRCUIT_LAYOUT_VERSION));
  }
  return absl::OkStatus();
}

absl::Status LoopbackShortCircuit::Attach() {
  // sk_msg first: a socket that sockops adds must find the verdict program in place.
  // Attaching to a map replaces a previous agent's program in place.
  if (bpf_prog_attach(bpf_program__fd(skel_->progs.shortcircuit_msg),
                      bpf_map__fd(skel_->maps.shortcircuit_socks), BPF_SK_MSG_VERDICT, 0) != 0) {
    return ErrnoStatus(errno, "attach sk_msg to the sockhash", kFamily);
  }
  for (AttachPoint& point : attach_points_) {
    if (absl::Status s = AttachAt(point); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status LoopbackShortCircuit::AttachAt(AttachPoint& point) {
  if (point.link != nullptr) return absl::OkStatus();
  const std::string& path = point.link_path;
  // access() first: libbpf logs a warning for every pin it fails to open.
  if (bpf_link* pinned = access(path.c_str(), F_OK) == 0 ? bpf_link__open(path.c_str()) : nullptr;
      pinned != nullptr) {
    if (int err = bpf_link__update_program(pinned, skel_->progs.shortcircuit_sockops); err != 0) {
      bpf_link__destroy(pinned);
      return ErrnoStatus(err, "update pinned sockops link to the new program", path);
    }
    point.link = pinned;
    log::Info("shortcircuit: adopted pinned sockops link", {{"path", path}});
    return absl::OkStatus();
  }
  int cgroup_fd = open(point.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0) return ErrnoStatus(errno, "open cgroup", point.cgroup_path);
  bpf_link* link = bpf_program__attach_cgroup(skel_->progs.shortcircuit_sockops, cgroup_fd);
  const int attach_errno = errno;
  close(cgroup_fd);
  if (link == nullptr) return ErrnoStatus(attach_errno, "attach sockops", point.cgroup_path);
  if (absl::Status s = MakeDirs(family_dir_); !s.ok()) {
    bpf_link__destroy(link);
    return s;
  }
  if (int err = bpf_link__pin(link, path.c_str()); err != 0) {
    bpf_link__destroy(link);
    return ErrnoStatus(err, "pin sockops link", path);
  }
  point.link = link;
  log::Info("shortcircuit: enabled", {{"cgroup", point.cgroup_path}});
  return absl::OkStatus();
}

absl::Status LoopbackShortCircuit::DetachAt(AttachPoint& point) {
  if (point.link == nullptr && access(point.link_path.c_str(), F_OK) == 0) {
    point.link = bpf_link__open(point.link_path.c_str());
  }
  if (point.link == nullptr) return absl::OkStatus();
  if (int err = bpf_link__detach(point.link); err != 0 && err != -ENOLINK) {
    return ErrnoStatus(err, "detach sockops link", point.link_path);
  }
  if (int err = bpf_link__unpin(point.link); err != 0 && err != -ENOENT) {
    return ErrnoStatus(err, "unpin sockops link", point.link_path);
  }
  bpf_link__destroy(point.link);
  point.link = nullptr;
  return absl::OkStatus();
}

absl::Status LoopbackShortCircuit::Detach() {
  for (AttachPoint& point : attach_points_) {
    if (absl::Status s = DetachAt(point); !s.ok()) return s;
  }
  if (bpf_prog_detach2(bpf_program__fd(skel_->progs.shortcircuit_msg),
                       bpf_map__fd(skel_->maps.shortcircuit_socks), BPF_SK_MSG_VERDICT) != 0 &&
      errno != ENOENT) {
    return ErrnoStatus(errno, "detach sk_msg from the sockhash", kFamily);
  }
  // A socket leaves the short-circuit only when it leaves the sockhash.
  for (const shortcircuit_sock_key& key : Sockets()) {
    bpf_map__delete_elem(skel_->maps.shortcircuit_socks, &key, sizeof(key), 0);
  }
  log::Info("shortcircuit: disabled", {{"cgroup", attach_points_[0].cgroup_path}});
  return absl::OkStatus();
}

absl::Status LoopbackShortCircuit::SetEnabled(bool enabled) {
  return enabled ? Attach() : Detach();
}

absl::Status LoopbackShortCircuit::Enroll(uint64_t netns_cookie) {
  uint32_t value = 0;
  if (int err = bpf_map__update_elem(skel_->maps.shortcircuit_netns, &netns_cookie,
                                     sizeof(netns_cookie), &value, sizeof(value), BPF_ANY);
      err != 0) {
    return ErrnoStatus(err, "enroll netns in the short-circuit", absl::StrCat(netns_cookie));
  }
  return absl::OkStatus();
}

absl::Status LoopbackShortCircuit::Unenroll(uint64_t netns_cookie) {
  if (int err = bpf_map__delete_elem(skel_->maps.shortcircuit_netns, &netns_cookie,
                                     sizeof(netns_cookie), 0);
      err != 0 && err != -ENOENT) {
    return ErrnoStatus(err, "unenroll netns from the short-circuit", absl::StrCat(netns_cookie));
  }
  return absl::OkStatus();
}

std::vector<shortcircuit_sock_key> LoopbackShortCircuit::Sockets() const {
  std::vector<shortcircuit_sock_key> keys;
  shortcircuit_sock_key key{}, next{};
  const shortcircuit_sock_key* prev = nullptr;
  const bpf_map* map = skel_->maps.shortcircuit_socks;
  for (uint32_t i = 0; i < bpf_map__max_entries(map); ++i) {
    if (bpf_map__get_next_key(map, prev, &next, sizeof(next)) != 0) break;
    keys.push_back(next);
    key = next;
    prev = &key;
  }
  return keys;
}

absl::StatusOr<ShortCircuitStats> LoopbackShortCircuit::Stats() const {
  const size_t ncpu = static_cast<size_t>(libbpf_num_possible_cpus());
  uint64_t sums[SHORTCIRCUIT_STAT_MAX] = {};
  std::vector<uint64_t> per_cpu(ncpu);
  for (uint32_t i = 0; i < SHORTCIRCUIT_STAT_MAX; ++i) {
    if (int err = bpf_map__lookup_elem(skel_->maps.shortcircuit_stats, &i, sizeof(i),
                                       per_cpu.data(), per_cpu.size() * sizeof(uint64_t), 0);
        err != 0) {
      return ErrnoStatus(err, "read short-circuit stats", absl::StrCat("index ", i));
    }
    for (uint64_t v : per_cpu) sums[i] += v;
  }
  ShortCircuitStats s;
  s.added = sums[SHORTCIRCUIT_STAT_ADDED];
  s.add_failed = sums[SHORTCIRCUIT_STAT_ADD_FAILED];
  s.redirected = sums[SHORTCIRCUIT_STAT_REDIRECTED];
  s.no_peer = sums[SHORTCIRCUIT_STAT_NO_PEER];
  return s;
}

absl::Status LoopbackShortCircuit::Uninstall(const std::string& pin_dir) {
  return RemoveFamilyPins(absl::StrCat(pin_dir, "/", kFamily));
}

}  // namespace weft::bpf
