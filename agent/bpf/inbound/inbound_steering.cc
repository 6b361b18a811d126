#include "agent/bpf/inbound/inbound_steering.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/bpf/inbound/bpffs_pins.h"
#include "common/host/netns.h"
#include "common/log/logger.h"
#include "inbound.skel.h"

namespace weft::bpf {
namespace {

constexpr char kFamily[] = "inbound";

inbound_addr_key AddrKey(const PodAddress& a) {
  inbound_addr_key key{};
  key.family = a.family == AF_INET ? INBOUND_AF_INET : INBOUND_AF_INET6;
  std::memcpy(key.addr, a.bytes.data(), a.family == AF_INET ? 4 : 16);
  return key;
}

inbound_port_key PortKey(uint64_t netns_cookie, uint16_t port) {
  inbound_port_key key{};
  key.netns_cookie = netns_cookie;
  key.port = port;
  return key;
}

// Every key of `map` (bounded by its max_entries), for deleting by a value or key field.
template <typename Key>
std::vector<Key> AllKeys(const bpf_map* map) {
  std::vector<Key> keys;
  Key key{}, next{};
  const Key* prev = nullptr;
  for (uint32_t i = 0; i < bpf_map__max_entries(map); ++i) {
    if (bpf_map__get_next_key(map, prev, &next, sizeof(Key)) != 0) break;
    keys.push_back(next);
    key = next;
    prev = &key;
  }
  return keys;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InboundSteering>> InboundSteering::Create(
    const std::string& pin_dir) {
  std::unique_ptr<InboundSteering> s(new InboundSteering(absl::StrCat(pin_dir, "/", kFamily)));
  if (absl::Status st = s->Open(); !st.ok()) return st;
  if (absl::Status st = s->Load(); !st.ok()) return st;
  if (absl::Status st = s->AdoptPinnedLinks(); !st.ok()) return st;
  if (absl::Status st = RemoveStaleMapDirs(s->family_dir_, INBOUND_LAYOUT_VERSION); !st.ok()) {
    return st;
  }
  return s;
}

InboundSteering::~InboundSteering() {
  for (auto& [cookie, link] : links_) bpf_link__destroy(link);  // fd only; the pin remains
  if (skel_ != nullptr) inbound::destroy(skel_);
}

absl::Status InboundSteering::Open() {
  skel_ = inbound::open();
  if (skel_ == nullptr) return ErrnoStatus(errno, "open BPF skeleton", kFamily);
  return PinMapsUnder(skel_->obj, MapsDir(family_dir_, INBOUND_LAYOUT_VERSION));
}

absl::Status InboundSteering::Load() {
  if (int err = inbound::load(skel_); err != 0) {
    // A pinned map of the same layout version but other parameters is the usual cause.
    return ErrnoStatus(err, "load BPF skeleton (maps pinned under the same layout version?)",
                       MapsDir(family_dir_, INBOUND_LAYOUT_VERSION));
  }
  return absl::OkStatus();
}

std::string InboundSteering::LinkPath(uint64_t netns_cookie) const {
  return absl::StrCat(family_dir_, "/", netns_cookie);
}

absl::Status InboundSteering::AdoptPinnedLinks() {
  absl::StatusOr<std::vector<std::string>> names = ListDir(family_dir_);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    uint64_t cookie;
    if (!absl::SimpleAtoi(name, &cookie)) continue;
    const std::string path = LinkPath(cookie);
    bpf_link* link = bpf_link__open(path.c_str());
    if (link == nullptr) return ErrnoStatus(errno, "open pinned link", path);
    int err = bpf_link__update_program(link, skel_->progs.inbound_lookup);
    if (err == -ENOLINK) {
      // The pod's netns is gone; nothing to steer there any more.
      log::Info("inbound: dropping link of a vanished netns", {{"netns_cookie", cookie}});
      bpf_link__unpin(link);
      bpf_link__destroy(link);
      if (absl::Status s = ForgetNetnsEntries(cookie); !s.ok()) return s;
      continue;
    }
    if (err != 0) {
      bpf_link__destroy(link);
      return ErrnoStatus(err, "update pinned link to the new program", path);
    }
    links_[cookie] = link;
    log::Info("inbound: adopted pinned link", {{"netns_cookie", cookie}});
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> InboundSteering::Attach(int netns_fd, InboundMode mode) {
  absl::StatusOr<uint64_t> cookie = host::NetnsCookieOf(netns_fd);
  if (!cookie.ok()) return cookie.status();
  if (absl::Status s = SetMode(*cookie, mode); !s.ok()) return s;

  const size_t ncpu = static_cast<size_t>(libbpf_num_possible_cpus());
  std::vector<inbound_counters> zero(ncpu);
  int err = bpf_map__update_elem(skel_->maps.inbound_stats, &*cookie, sizeof(*cookie), zero.data(),
                                 zero.size() * sizeof(inbound_counters), BPF_NOEXIST);
  if (err != 0 && err != -EEXIST) {
    return ErrnoStatus(err, "create counters", absl::StrCat("netns ", *cookie));
  }
  if (links_.contains(*cookie)) return *cookie;

  if (absl::Status s = MakeDirs(family_dir_); !s.ok()) return s;
  bpf_link* link = bpf_program__attach_netns(skel_->progs.inbound_lookup, netns_fd);
  if (link == nullptr) {
    return ErrnoStatus(errno, "attach sk_lookup", absl::StrCat("netns ", *cookie));
  }
  const std::string path = LinkPath(*cookie);
  if (err = bpf_link__pin(link, path.c_str()); err != 0) {
    bpf_link__destroy(link);
    return ErrnoStatus(err, "pin sk_lookup link", path);
  }
  links_[*cookie] = link;
  log::Info("inbound: attached",
            {{"netns_cookie", *cookie},
             {"mode", mode == InboundMode::kStrict ? "STRICT" : "PERMISSIVE"}});
  return *cookie;
}

absl::Status InboundSteering::Detach(uint64_t netns_cookie) {
  auto it = links_.find(netns_cookie);
  if (it == links_.end()) {
    return absl::NotFoundError(absl::StrCat("inbound: netns ", netns_cookie, " is not attached"));
  }
  // Detach explicitly: dropping the last reference would detach from a kernel workqueue,
  // later, and a process still holding the link would keep it attached.
  if (int err = bpf_link__detach(it->second); err != 0 && err != -ENOLINK) {
    return ErrnoStatus(err, "detach sk_lookup link", LinkPath(netns_cookie));
  }
  if (int err = bpf_link__unpin(it->second); err != 0 && err != -ENOENT) {
    return ErrnoStatus(err, "unpin sk_lookup link", LinkPath(netns_cookie));
  }
  bpf_link__destroy(it->second);
  links_.erase(it);
  log::Info("inbound: detached", {{"netns_cookie", netns_cookie}});
  return ForgetNetnsEntries(netns_cookie);
}

absl::Status InboundSteering::ForgetNetnsEntries(uint64_t netns_cookie) {
  bpf_map__delete_elem(skel_->maps.inbound_netns, &netns_cookie, sizeof(netns_cookie), 0);
  bpf_map__delete_elem(skel_->maps.inbound_stats, &netns_cookie, sizeof(netns_cookie), 0);
  for (uint32_t family : {INBOUND_AF_INET, INBOUND_AF_INET6}) {
    inbound_listener_key key{};
    key.netns_cookie = netns_cookie;
    key.family = family;
    bpf_map__delete_elem(skel_->maps.inbound_listeners, &key, sizeof(key), 0);
  }
  for (const inbound_port_key& key : AllKeys<inbound_port_key>(skel_->maps.inbound_ports)) {
    if (key.netns_cookie == netns_cookie) {
      bpf_map__delete_elem(skel_->maps.inbound_ports, &key, sizeof(key), 0);
    }
  }
  for (const inbound_addr_key& key : AllKeys<inbound_addr_key>(skel_->maps.inbound_addrs)) {
    inbound_addr_value value{};
    if (bpf_map__lookup_elem(skel_->maps.inbound_addrs, &key, sizeof(key), &value, sizeof(value),
                             0) == 0 &&
        value.netns_cookie == netns_cookie) {
      bpf_map__delete_elem(skel_->maps.inbound_addrs, &key, sizeof(key), 0);
    }
  }
  return absl::OkStatus();
}

absl::Status InboundSteering::SetMode(uint64_t netns_cookie, InboundMode mode) {
  inbound_netns_config cfg{};
  cfg.mode = static_cast<uint32_t>(mode);
  if (int err = bpf_map__update_elem(skel_->maps.inbound_netns, &netns_cookie, sizeof(netns_cookie),
                                     &cfg, sizeof(cfg), BPF_ANY);
      err != 0) {
    return ErrnoStatus(err, "set inbound mode", absl::StrCat("netns ", netns_cookie));
  }
  return absl::OkStatus();
}

absl::Status InboundSteering::AddPodAddress(uint64_t netns_cookie, const PodAddress& address) {
  if (address.family != AF_INET && address.family != AF_INET6) {
    return absl::InvalidArgumentError("pod address: family must be AF_INET or AF_INET6");
  }
  inbound_addr_key key = AddrKey(address);
  inbound_addr_value value{};
  value.netns_cookie = netns_cookie;
  if (int err = bpf_map__update_elem(skel_->maps.inbound_addrs, &key, sizeof(key), &value,
                                     sizeof(value), BPF_ANY);
      err != 0) {
    return ErrnoStatus(err, "add pod address", address.ToString());
  }
  return absl::OkStatus();
}

absl::Status InboundSteering::RemovePodAddress(const PodAddress& address) {
  inbound_addr_key key = AddrKey(address);
  if (int err = bpf_map__delete_elem(skel_->maps.inbound_addrs, &key, sizeof(key), 0);
      err != 0 && err != -ENOENT) {
    return ErrnoStatus(err, "remove pod address", address.ToString());
  }
  return absl::OkStatus();
}

absl::Status InboundSteering::ExcludePort(uint64_t netns_cookie, uint16_t port) {
  inbound_port_key key = PortKey(netns_cookie, port);
  uint32_t value = 0;
  if (int err = bpf_map__update_elem(skel_->maps.inbound_ports, &key, sizeof(key), &value,
                                     sizeof(value), BPF_ANY);
      err != 0) {
    return ErrnoStatus(err, "exclude port", absl::StrCat("netns ", netns_cookie, " port ", port));
  }
  return absl::OkStatus();
}

absl::Status InboundSteering::RemovePortExclusion(uint64_t netns_cookie, uint16_t port) {
  inbound_port_key key = PortKey(netns_cookie, port);
  if (int err = bpf_map__delete_elem(skel_->maps.inbound_ports, &key, sizeof(key), 0);
      err != 0 && err != -ENOENT) {
    return ErrnoStatus(err, "remove port exclusion",
                       absl::StrCat("netns ", netns_cookie, " port ", port));
  }
  return absl::OkStatus();
}

absl::Status InboundSteering::RegisterListener(uint64_t netns_cookie, int listener_fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(listener_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return ErrnoStatus(errno, "getsockname of the 15006 listener",
                       absl::StrCat("fd ", listener_fd));
  }
  std::vector<uint32_t> families;
  if (addr.ss_family == AF_INET) {
    families = {INBOUND_AF_INET};
  } else if (addr.ss_family == AF_INET6) {
    int v6only = 0;
    socklen_t optlen = sizeof(v6only);
    if (getsockopt(listener_fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) != 0) {
      return ErrnoStatus(errno, "getsockopt(IPV6_V6ONLY)", absl::StrCat("fd ", listener_fd));
    }
    families = v6only ? std::vector<uint32_t>{INBOUND_AF_INET6}
                      : std::vector<uint32_t>{INBOUND_AF_INET6, INBOUND_AF_INET};
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("15006 listener fd ", listener_fd, " is not an IPv4/IPv6 socket"));
  }
  const uint64_t fd = static_cast<uint64_t>(listener_fd);
  for (uint32_t family : families) {
    inbound_listener_key key{};
    key.netns_cookie = netns_cookie;
    key.family = family;
    if (int err = bpf_map__update_elem(skel_->maps.inbound_listeners, &key, sizeof(key), &fd,
                                       sizeof(fd), BPF_ANY);
        err != 0) {
      return ErrnoStatus(err, "register 15006 listener",
                         absl::StrCat("netns ", netns_cookie, " fd ", listener_fd));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<InboundCounters> InboundSteering::Counters(uint64_t netns_cookie) const {
  const size_t ncpu = static_cast<size_t>(libbpf_num_possible_cpus());
  std::vector<inbound_counters> per_cpu(ncpu);
  if (int err = bpf_map__lookup_elem(skel_->maps.inbound_stats, &netns_cookie, sizeof(netns_cookie),
                                     per_cpu.data(), per_cpu.size() * sizeof(inbound_counters), 0);
      err != 0) {
    return ErrnoStatus(err, "read inbound counters", absl::StrCat("netns ", netns_cookie));
  }
  InboundCounters sum;
  for (const inbound_counters& c : per_cpu) {
    sum.steered += c.steered;
    sum.dropped += c.dropped;
    sum.passed += c.passed;
    sum.no_listener += c.no_listener;
  }
  return sum;
}

std::vector<uint64_t> InboundSteering::AttachedNetns() const {
  std::vector<uint64_t> cookies;
  for (const auto& [cookie, link] : links_) cookies.push_back(cookie);
  return cookies;
}

int InboundSteering::lookup_program_fd() const {
  return bpf_program__fd(skel_->progs.inbound_lookup);
}

absl::Status InboundSteering::Uninstall(const std::string& pin_dir) {
  return RemoveFamilyPins(absl::StrCat(pin_dir, "/", kFamily));
}

}  // namespace weft::bpf
