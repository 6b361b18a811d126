#include "agent/weftctl/map_decoders.h"

#include <arpa/inet.h>

#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/bpf/capture/capture_addr_text.h"
#include "agent/weftctl/histogram_percentiles.h"
#include "bpf/capture.h"
#include "bpf/inbound.h"
#include "bpf/policy.h"
#include "bpf/shortcircuit.h"

namespace weft::weftctl {
namespace {

template <typename T>
T As(const std::string& bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

DecodedField Num(std::string name, uint64_t value) {
  return {std::move(name), absl::StrCat(value), value};
}

DecodedField Text(std::string name, std::string text) {
  return {std::move(name), std::move(text), std::nullopt};
}

std::string Percentile(const uint64_t (&buckets)[CAPTURE_HIST_BUCKETS], double q, double unit_ns) {
  auto estimate = EstimatePercentile(buckets, q);
  return estimate ? FormatNanoseconds(*estimate * unit_ns) : "-";
}

std::string Ip4(uint32_t addr_be) { return FormatIp(reinterpret_cast<uint8_t*>(&addr_be), 4); }

// Appends the key's fields and, when `value` has the expected size, the value's.
struct Decoder {
  size_t key_size;
  size_t value_size;  // for per-CPU maps, the size of one CPU's value
  std::function<void(const std::string& key, const std::string* value, DecodedEntry&)> decode;
};

void EnrolledNetns(const std::string& k, const std::string* v, DecodedEntry& out) {
  out.push_back(Num("netns_cookie", As<uint64_t>(k)));
  if (v == nullptr) return;
  auto w = As<capture_workload>(*v);
  out.push_back(Num("workload_id", w.workload_id));
  if (w.flags & CAPTURE_WORKLOAD_HAS_IPV4) out.push_back(Text("ipv4", Ip4(w.pod_ipv4)));
  if (w.flags & CAPTURE_WORKLOAD_HAS_IPV6) out.push_back(Text("ipv6", FormatIp(w.pod_ipv6, 16)));
}

void CaptureSettings(const std::string&, const std::string* v, DecodedEntry& out) {
  if (v == nullptr) return;
  auto s = As<capture_settings>(*v);
  out.push_back(Num("layout_version", s.layout_version));
  out.push_back(Num("outbound_port", s.outbound_port));
  out.push_back(Num("ztunnel_mark", s.ztunnel_mark));
  out.push_back(Num("flags", s.flags));
}

void ExcludedPorts(const std::string&, const std::string* v, DecodedEntry& out) {
  if (v == nullptr) return;
  const auto set = As<capture_port_set>(*v);
  std::vector<std::string> ports;
  for (uint32_t port = 0; port < CAPTURE_PORT_WORDS * 64; ++port) {
    if ((set.words[port >> 6] >> (port & 63)) & 1) ports.push_back(absl::StrCat(port));
  }
  out.push_back(Text("ports", absl::StrJoin(ports, ",")));
}

void ExcludedCidrs4(const std::string& k, const std::string*, DecodedEntry& out) {
  auto key = As<capture_cidr4_key>(k);
  out.push_back(Text("cidr", absl::StrCat(Ip4(key.addr), "/", key.prefixlen)));
}

void ExcludedCidrs6(const std::string& k, const std::string*, DecodedEntry& out) {
  auto key = As<capture_cidr6_key>(k);
  out.push_back(Text("cidr", absl::StrCat(FormatIp(key.addr, 16), "/", key.prefixlen)));
}

void OrigDst(const std::string& k, const std::string* v, DecodedEntry& out) {
  auto key = As<capture_conn_key>(k);
  out.push_back(Num("netns_cookie", key.netns_cookie));
  out.push_back(Text("client", bpf::capture::FormatEndpoint(key.addr, key.port)));
  if (v == nullptr) return;
  auto dst = As<capture_orig_dst>(*v);
  out.push_back(Text("original_dst", bpf::capture::FormatEndpoint(dst.addr, dst.port)));
  out.push_back(Num("workload_id", dst.workload_id));
}

void CaptureSlots(const std::string& k, const std::string* v, DecodedEntry& out) {
  const uint32_t index = As<uint32_t>(k);
  const uint32_t address = htonl(CAPTURE_SLOT_NET | index);
  out.push_back(Num("slot", index));
  out.push_back(Text("address", Ip4(address)));
  if (v == nullptr) return;
  auto slot = As<capture_slot>(*v);
  out.push_back(Num("netns_cookie", slot.netns_cookie));
  out.push_back(Num("client_port", ntohs(static_cast<uint16_t>(slot.client_port))));
  out.push_back(Text("original_dst", bpf::capture::FormatEndpoint(slot.dst.addr, slot.dst.port)));
  out.push_back(Num("workload_id", slot.dst.workload_id));
}

void CaptureSlotSeq(const std::string&, const std::string* v, DecodedEntry& out) {
  if (v != nullptr) out.push_back(Num("slots_taken", As<uint64_t>(*v)));
}

void WorkloadStats(const std::string& k, const std::string* v, DecodedEntry& out) {
  out.push_back(Num("workload_id", As<uint32_t>(k)));
  if (v == nullptr) return;
  auto s = As<capture_stats>(*v);
  out.push_back(Num("captured", s.captured));
  out.push_back(Num("passed", s.passed));
  out.push_back(Num("denied", s.denied));
  out.push_back(Num("errors", s.errors));
  out.push_back(Text("connect_p50", Percentile(s.connect_latency_ns, 0.5, 1)));
  out.push_back(Text("connect_p99", Percentile(s.connect_latency_ns, 0.99, 1)));
  out.push_back(Text("srtt_p50", Percentile(s.srtt_us, 0.5, 1000)));
  out.push_back(Text("srtt_p99", Percentile(s.srtt_us, 0.99, 1000)));
}

void PolicyDenyCounts(const std::string& k, const std::string* v, DecodedEntry& out) {
  auto key = As<capture_policy_deny_key>(k);
  out.push_back(Num("workload_id", key.workload_id));
  out.push_back(Num("policy_id", key.policy_id));
  if (v != nullptr) out.push_back(Num("denied", As<uint64_t>(*v)));
}

void PolicyDstValue(const std::string* v, DecodedEntry& out) {
  if (v == nullptr) return;
  auto value = As<weft_policy_dst_value>(*v);
  out.push_back(Num("dst_id", value.dst_id));
  out.push_back(Text("flags", (value.flags & WEFT_POLICY_DST_OPEN) ? "OPEN" : "-"));
}

void PolicyDstV4(const std::string& k, const std::string* v, DecodedEntry& out) {
  out.push_back(Text("addr", Ip4(As<weft_policy_dst_v4_key>(k).addr)));
  PolicyDstValue(v, out);
}

void PolicyDstV6(const std::string& k, const std::string* v, DecodedEntry& out) {
  auto key = As<weft_policy_dst_v6_key>(k);
  out.push_back(Text("addr", FormatIp(reinterpret_cast<const uint8_t*>(key.addr), 16)));
  PolicyDstValue(v, out);
}

std::string VerdictName(uint8_t verdict) {
  switch (verdict) {
    case WEFT_POLICY_ALLOW:
      return "ALLOW";
    case WEFT_POLICY_DENY:
      return "DENY";
    case WEFT_POLICY_DEFER:
      return "DEFER";
  }
  return absl::StrCat("UNKNOWN(", verdict, ")");
}

void PolicyVerdicts(const std::string& k, const std::string* v, DecodedEntry& out) {
  auto key = As<weft_policy_verdict_key>(k);
  out.push_back(Num("src_workload_id", key.src_workload_id));
  out.push_back(Num("dst_id", key.dst_id));
  // Port 0 is the entry for every port without one of its own.
  out.push_back({"port", key.dst_port == 0 ? "*" : absl::StrCat(key.dst_port), key.dst_port});
  if (v == nullptr) return;
  auto value = As<weft_policy_verdict_value>(*v);
  out.push_back(Text("verdict", VerdictName(value.verdict)));
  out.push_back(Num("policy_id", value.policy_id));
}

void InboundNetns(const std::string& k, const std::string* v, DecodedEntry& out) {
  out.push_back(Num("netns_cookie", As<uint64_t>(k)));
  if (v == nullptr) return;
  uint32_t mode = As<inbound_netns_config>(*v).mode;
  out.push_back(Text("mode", mode == INBOUND_MODE_PERMISSIVE ? "PERMISSIVE"
                             : mode == INBOUND_MODE_STRICT   ? "STRICT"
                                                           : absl::StrCat("UNKNOWN(", mode, ")")));
}

void InboundAddrs(const std::string& k, const std::string* v, DecodedEntry& out) {
  auto key = As<inbound_addr_key>(k);
  const auto* bytes = reinterpret_cast<const uint8_t*>(key.addr);
  out.push_back(Text("addr", FormatIp(bytes, key.family == INBOUND_AF_INET ? 4 : 16)));
  if (v != nullptr) out.push_back(Num("netns_cookie", As<inbound_addr_value>(*v).netns_cookie));
}

void InboundPorts(const std::string& k, const std::string*, DecodedEntry& out) {
  auto key = As<inbound_port_key>(k);
  // Cookie 0 excludes the port in every enrolled netns.
  out.push_back({"netns_cookie", key.netns_cookie == 0 ? "*" : absl::StrCat(key.netns_cookie),
                 key.netns_cookie});
  out.push_back(Num("port", key.port));
}

std::string FamilyName(uint32_t family) {
  return family == INBOUND_AF_INET    ? "ipv4"
         : family == INBOUND_AF_INET6 ? "ipv6"
                                      : absl::StrCat(family);
}

void InboundListeners(const std::string& k, const std::string* v, DecodedEntry& out) {
  auto key = As<inbound_listener_key>(k);
  out.push_back(Num("netns_cookie", key.netns_cookie));
  out.push_back(Text("family", FamilyName(key.family)));
  if (v != nullptr) out.push_back(Num("socket_cookie", As<uint64_t>(*v)));
}

void InboundStats(const std::string& k, const std::string* v, DecodedEntry& out) {
  out.push_back(Num("netns_cookie", As<uint64_t>(k)));
  if (v == nullptr) return;
  auto c = As<inbound_counters>(*v);
  out.push_back(Num("steered", c.steered));
  out.push_back(Num("dropped", c.dropped));
  out.push_back(Num("passed", c.passed));
  out.push_back(Num("no_listener", c.no_listener));
}

void ShortcircuitNetns(const std::string& k, const std::string* v, DecodedEntry& out) {
  out.push_back(Num("netns_cookie", As<uint64_t>(k)));
  if (v != nullptr) out.push_back(Num("value", As<uint32_t>(*v)));
}

void ShortcircuitSocks(const std::string& k, const std::string* v, DecodedEntry& out) {
  auto key = As<shortcircuit_sock_key>(k);
  out.push_back(Num("netns_cookie", key.netns_cookie));
  out.push_back(Text("local", bpf::capture::FormatEndpoint(key.local_ip, htons(key.local_port))));
  out.push_back(
      Text("remote", bpf::capture::FormatEndpoint(key.remote_ip, htons(key.remote_port))));
  if (v != nullptr) out.push_back(Num("socket_cookie", As<uint64_t>(*v)));
}

void ShortcircuitStats(const std::string& k, const std::string* v, DecodedEntry& out) {
  static constexpr const char* kNames[] = {"added", "add_failed", "redirected", "no_peer"};
  static_assert(std::size(kNames) == SHORTCIRCUIT_STAT_MAX);
  uint32_t index = As<uint32_t>(k);
  out.push_back(
      Text("counter", index < SHORTCIRCUIT_STAT_MAX ? kNames[index] : absl::StrCat("#", index)));
  if (v != nullptr) out.push_back(Num("count", As<uint64_t>(*v)));
}

const std::map<std::string, Decoder>& Decoders() {
  static const auto* decoders = new std::map<std::string, Decoder>{
      {"enrolled_netns", {8, sizeof(capture_workload), EnrolledNetns}},
      {"capture_settings", {4, sizeof(capture_settings), CaptureSettings}},
      {"excluded_ports", {4, sizeof(capture_port_set), ExcludedPorts}},
      {"excluded_cidrs4", {sizeof(capture_cidr4_key), 4, ExcludedCidrs4}},
      {"excluded_cidrs6", {sizeof(capture_cidr6_key), 4, ExcludedCidrs6}},
      {"orig_dst", {sizeof(capture_conn_key), sizeof(capture_orig_dst), OrigDst}},
      {"capture_slots", {4, sizeof(capture_slot), CaptureSlots}},
      {"capture_slot_seq", {4, 8, CaptureSlotSeq}},
      {"workload_stats", {4, sizeof(capture_stats), WorkloadStats}},
      {"policy_deny_counts", {sizeof(capture_policy_deny_key), 8, PolicyDenyCounts}},
      {"policy_dst_v4",
       {sizeof(weft_policy_dst_v4_key), sizeof(weft_policy_dst_value), PolicyDstV4}},
      {"policy_dst_v6",
       {sizeof(weft_policy_dst_v6_key), sizeof(weft_policy_dst_value), PolicyDstV6}},
      {"policy_verdicts",
       {sizeof(weft_policy_verdict_key), sizeof(weft_policy_verdict_value), PolicyVerdicts}},
      {"inbound_netns", {8, sizeof(inbound_netns_config), InboundNetns}},
      {"inbound_addrs", {sizeof(inbound_addr_key), sizeof(inbound_addr_value), InboundAddrs}},
      {"inbound_ports", {sizeof(inbound_port_key), 4, InboundPorts}},
      {"inbound_listeners", {sizeof(inbound_listener_key), 8, InboundListeners}},
      {"inbound_stats", {8, sizeof(inbound_counters), InboundStats}},
      {"shortcircuit_netns", {8, 4, ShortcircuitNetns}},
      {"shortcircuit_socks", {sizeof(shortcircuit_sock_key), 8, ShortcircuitSocks}},
      {"shortcircuit_stats", {4, 8, ShortcircuitStats}},
  };
  return *decoders;
}

const Decoder* Find(const PinnedMap& map) {
  auto it = Decoders().find(PinName(map));
  if (it == Decoders().end()) return nullptr;
  // Another layout (an agent of another version) is listed, not misread.
  if (map.key_size != it->second.key_size || map.value_size != it->second.value_size) {
    return nullptr;
  }
  return &it->second;
}

}  // namespace

std::string PinName(const PinnedMap& map) {
  size_t slash = map.relative_path.rfind('/');
  return slash == std::string::npos ? map.relative_path : map.relative_path.substr(slash + 1);
}

bool HasDecoder(const PinnedMap& map) { return Find(map) != nullptr; }

std::optional<DecodedEntry> DecodeEntry(const PinnedMap& map, const MapEntry& entry) {
  const Decoder* decoder = Find(map);
  if (decoder == nullptr || entry.key.size() != decoder->key_size) return std::nullopt;
  // A value of another size (a sockhash answering with something else than a cookie)
  // leaves the key decoded and the value out.
  const std::string* value =
      entry.value_readable && entry.value.size() == decoder->value_size ? &entry.value : nullptr;
  DecodedEntry out;
  decoder->decode(entry.key, value, out);
  return out;
}

std::string FormatIp(const uint8_t* bytes, size_t size) {
  static constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (size == 16 && std::memcmp(bytes, kV4Mapped, 12) == 0) return FormatIp(bytes + 12, 4);
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(size == 4 ? AF_INET : AF_INET6, bytes, text, sizeof(text)) == nullptr) return "?";
  return text;
}

}  // namespace weft::weftctl
