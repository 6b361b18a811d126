#include "agent/weftctl/bpf_stats_command.h"

#include <array>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/weftctl/agent_workload_names.h"
#include "agent/weftctl/bpf_instance_selection.h"
#include "agent/weftctl/histogram_percentiles.h"
#include "agent/weftctl/pinned_maps.h"
#include "agent/weftctl/text_table.h"
#include "bpf/capture.h"
#include "bpf/inbound.h"
#include "bpf/shortcircuit.h"
#include "agent/weftctl/command_flags.h"
#include "common/cli/flag_set.h"
#include "common/json/json_string.h"

namespace weft::weftctl {
namespace {

constexpr double kQuantiles[] = {0.5, 0.9, 0.99};
constexpr const char* kQuantileNames[] = {"p50", "p90", "p99"};
constexpr const char* kShortcircuitNames[] = {"added", "add_failed", "redirected", "no_peer"};

struct DenialRow {
  uint32_t workload_id = 0;
  uint32_t policy_id = 0;
  uint64_t denied = 0;
};

struct InstanceStats {
  AgentInstance instance;
  std::optional<WorkloadNames> names = std::nullopt;
  std::string names_error = {};                      // why there are no names
  std::map<uint32_t, capture_stats> workloads = {};  // by workload id
  std::vector<DenialRow> denials = {};
  std::map<uint64_t, inbound_counters> inbound = {};  // by netns cookie
  std::optional<std::array<uint64_t, SHORTCIRCUIT_STAT_MAX>> shortcircuit = std::nullopt;
  std::vector<std::string> problems = {};  // maps missing or unreadable
};

template <typename T>
bool Fits(const PinnedMap& map, size_t key_size) {
  return map.key_size == key_size && map.value_size == sizeof(T);
}

template <typename T>
T As(const std::string& bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

void Collect(const std::vector<PinnedMap>& maps, InstanceStats& stats) {
  std::map<std::string, const PinnedMap*> by_pin;
  for (const PinnedMap& map : maps) {
    by_pin[map.relative_path.substr(map.relative_path.rfind('/') + 1)] = &map;
  }
  // Each map read only when its layout is the one this weftctl was built against.
  auto usable = [&](const std::string& pin, size_t key_size, size_t value_size) {
    auto it = by_pin.find(pin);
    if (it == by_pin.end()) {
      stats.problems.push_back(pin + ": not pinned");
      return static_cast<const PinnedMap*>(nullptr);
    }
    const PinnedMap* map = it->second;
    if (map->key_size != key_size || map->value_size != value_size) {
      stats.problems.push_back(absl::StrCat(pin, ": unexpected layout (key ", map->key_size,
                                            ", value ", map->value_size, " bytes)"));
      return static_cast<const PinnedMap*>(nullptr);
    }
    if (!map->error.empty()) stats.problems.push_back(pin + ": " + map->error);
    return map;
  };
  if (auto* map = usable("workload_stats", 4, sizeof(capture_stats))) {
    for (const MapEntry& e : map->entries) {
      if (e.value_readable) stats.workloads[As<uint32_t>(e.key)] = As<capture_stats>(e.value);
    }
  }
  if (auto* map = usable("policy_deny_counts", sizeof(capture_policy_deny_key), 8)) {
    for (const MapEntry& e : map->entries) {
      if (!e.value_readable) continue;
      auto key = As<capture_policy_deny_key>(e.key);
      stats.denials.push_back({key.workload_id, key.policy_id, As<uint64_t>(e.value)});
    }
  }
  if (auto* map = usable("inbound_stats", 8, sizeof(inbound_counters))) {
    for (const MapEntry& e : map->entries) {
      if (e.value_readable) stats.inbound[As<uint64_t>(e.key)] = As<inbound_counters>(e.value);
    }
  }
  auto sc = by_pin.find("shortcircuit_stats");
  if (sc != by_pin.end() && sc->second->key_size == 4 && sc->second->value_size == 8) {
    std::array<uint64_t, SHORTCIRCUIT_STAT_MAX> counters = {};
    for (const MapEntry& e : sc->second->entries) {
      uint32_t index = As<uint32_t>(e.key);
      if (e.value_readable && index < counters.size()) counters[index] = As<uint64_t>(e.value);
    }
    stats.shortcircuit = counters;
  }
}

std::string WorkloadName(const InstanceStats& stats, uint32_t id) {
  if (!stats.names) return "";
  auto it = stats.names->by_id.find(id);
  return it == stats.names->by_id.end() ? "(not enrolled)" : it->second;
}

std::string PolicyName(const InstanceStats& stats, uint32_t policy_id) {
  if (!stats.names) return "";
  auto it = stats.names->policies.find(policy_id);
  return it == stats.names->policies.end() ? "(unknown)" : it->second;
}

std::string NetnsName(const InstanceStats& stats, uint64_t cookie) {
  if (!stats.names) return "";
  auto it = stats.names->by_cookie.find(cookie);
  return it == stats.names->by_cookie.end() ? "(not enrolled)" : it->second;
}

std::string PercentilesText(std::span<const uint64_t> buckets, double unit_ns) {
  std::vector<std::string> parts;
  for (double q : kQuantiles) {
    auto v = EstimatePercentile(buckets, q);
    parts.push_back(v ? FormatNanoseconds(*v * unit_ns) : "-");
  }
  return absl::StrJoin(parts, "/");
}

void PrintStatsTable(const std::vector<InstanceStats>& all) {
  for (size_t n = 0; n < all.size(); ++n) {
    const InstanceStats& s = all[n];
    std::cout << (n ? "\n" : "") << "instance " << s.instance.name;
    if (s.names) {
      std::cout << " (node " << s.names->node << ", names from agent at " << s.instance.admin_addr
                << ")\n";
    } else {
      std::cout << "\n  workload names unavailable, ids only: " << s.names_error << "\n";
    }
    for (const std::string& problem : s.problems) std::cout << "  note: " << problem << "\n";
    std::vector<std::vector<std::string>> rows = {{"WORKLOAD", "NAME", "CAPTURED", "PASSED",
                                                   "DENIED", "ERRORS", "CONNECT p50/p90/p99",
                                                   "SRTT p50/p90/p99"}};
    for (const auto& [id, w] : s.workloads) {
      rows.push_back({absl::StrCat(id), WorkloadName(s, id), absl::StrCat(w.captured),
                      absl::StrCat(w.passed), absl::StrCat(w.denied), absl::StrCat(w.errors),
                      PercentilesText(w.connect_latency_ns, 1), PercentilesText(w.srtt_us, 1000)});
    }
    std::cout << "\n";
    PrintTable(std::cout, rows, "  ");
    for (const auto& [id, w] : s.workloads) {
      if (HistogramTotal(w.connect_latency_ns) + HistogramTotal(w.srtt_us) == 0) continue;
      std::cout << "  workload " << id << " connect: " << CompactBuckets(w.connect_latency_ns, 1)
                << "\n  workload " << id << " srtt:    " << CompactBuckets(w.srtt_us, 1000) << "\n";
    }
    std::cout << "\n  policy denials (in-kernel, connect() refused with EPERM):\n";
    if (s.denials.empty()) {
      std::cout << "    none\n";
    } else {
      std::vector<std::vector<std::string>> denial_rows = {
          {"WORKLOAD", "NAME", "POLICY ID", "POLICY", "DENIED"}};
      for (const DenialRow& d : s.denials) {
        denial_rows.push_back({absl::StrCat(d.workload_id), WorkloadName(s, d.workload_id),
                               absl::StrCat(d.policy_id), PolicyName(s, d.policy_id),
                               absl::StrCat(d.denied)});
      }
      PrintTable(std::cout, denial_rows, "    ");
    }
    std::cout << "\n  inbound steering per pod netns:\n";
    std::vector<std::vector<std::string>> inbound_rows = {
        {"NETNS COOKIE", "NAME", "STEERED", "DROPPED", "PASSED", "NO LISTENER"}};
    for (const auto& [cookie, c] : s.inbound) {
      inbound_rows.push_back({absl::StrCat(cookie), NetnsName(s, cookie), absl::StrCat(c.steered),
                              absl::StrCat(c.dropped), absl::StrCat(c.passed),
                              absl::StrCat(c.no_listener)});
    }
    PrintTable(std::cout, inbound_rows, "    ");
    if (s.shortcircuit) {
      std::vector<std::string> parts;
      for (size_t i = 0; i < s.shortcircuit->size(); ++i) {
        parts.push_back(absl::StrCat(kShortcircuitNames[i], "=", (*s.shortcircuit)[i]));
      }
      std::cout << "\n  loopback short-circuit: " << absl::StrJoin(parts, " ") << "\n";
    }
  }
}

std::string HistogramJson(std::span<const uint64_t> buckets) {
  std::string out = "{";
  for (size_t i = 0; i < std::size(kQuantiles); ++i) {
    auto v = EstimatePercentile(buckets, kQuantiles[i]);
    absl::StrAppend(&out, "\"", kQuantileNames[i], "\":", v ? absl::StrCat(*v) : "null", ",");
  }
  return absl::StrCat(out, "\"count\":", HistogramTotal(buckets), ",\"buckets\":[",
                      absl::StrJoin(buckets, ","), "]}");
}

std::string NameJson(const std::string& name) { return name.empty() ? "null" : json::Quoted(name); }

std::string InstanceJson(const InstanceStats& s) {
  std::string out = absl::StrCat("{\"instance\":", json::Quoted(s.instance.name),
                                 ",\"dir\":", json::Quoted(s.instance.dir));
  if (s.names) {
    absl::StrAppend(&out, ",\"node\":", json::Quoted(s.names->node),
                    ",\"names_from\":", json::Quoted(s.instance.admin_addr));
  } else {
    absl::StrAppend(&out, ",\"names_from\":null,\"names_error\":", json::Quoted(s.names_error));
  }
  std::vector<std::string> items;
  for (const std::string& p : s.problems) items.push_back(json::Quoted(p));
  absl::StrAppend(&out, ",\"problems\":[", absl::StrJoin(items, ","), "]");
  items.clear();
  for (const auto& [id, w] : s.workloads) {
    items.push_back(absl::StrCat(
        "{\"workload_id\":", id, ",\"name\":", NameJson(WorkloadName(s, id)),
        ",\"captured\":", w.captured, ",\"passed\":", w.passed, ",\"denied\":", w.denied,
        ",\"errors\":", w.errors, ",\"connect_latency_ns\":", HistogramJson(w.connect_latency_ns),
        ",\"srtt_us\":", HistogramJson(w.srtt_us), "}"));
  }
  absl::StrAppend(&out, ",\"workloads\":[", absl::StrJoin(items, ","), "]");
  items.clear();
  for (const DenialRow& d : s.denials) {
    items.push_back(absl::StrCat("{\"workload_id\":", d.workload_id,
                                 ",\"name\":", NameJson(WorkloadName(s, d.workload_id)),
                                 ",\"policy_id\":", d.policy_id,
                                 ",\"policy\":", NameJson(PolicyName(s, d.policy_id)),
                                 ",\"denied\":", d.denied, "}"));
  }
  absl::StrAppend(&out, ",\"policy_denials\":[", absl::StrJoin(items, ","), "]");
  items.clear();
  for (const auto& [cookie, c] : s.inbound) {
    items.push_back(
        absl::StrCat("{\"netns_cookie\":", cookie, ",\"name\":", NameJson(NetnsName(s, cookie)),
                     ",\"steered\":", c.steered, ",\"dropped\":", c.dropped,
                     ",\"passed\":", c.passed, ",\"no_listener\":", c.no_listener, "}"));
  }
  absl::StrAppend(&out, ",\"inbound\":[", absl::StrJoin(items, ","), "]");
  if (s.shortcircuit) {
    items.clear();
    for (size_t i = 0; i < s.shortcircuit->size(); ++i) {
      items.push_back(absl::StrCat("\"", kShortcircuitNames[i], "\":", (*s.shortcircuit)[i]));
    }
    absl::StrAppend(&out, ",\"shortcircuit\":{", absl::StrJoin(items, ","), "}");
  }
  return out + "}";
}

}  // namespace

int RunBpfStats(const std::vector<std::string>& args) {
  InstanceSelectionFlags selection;
  std::string output;
  cli::FlagSet flags(
      "weftctl bpf stats [--bpffs DIR] [--instance NAME [--admin ADDR] | --lab LAB] "
      "[--output table|json]",
      "Per-workload kernel counters and latency percentiles, policy denials and inbound "
      "counters, from the pinned maps.");
  AddInstanceSelectionFlags(flags, &selection);
  flags.String("output", &output, "table", "table or json");
  if (auto exit = ParseCommandFlags(flags, args, "bpf stats", output)) return *exit;
  auto fail = [](const std::string& why) { return CommandFailure("bpf stats", why); };
  auto instances = SelectInstances(selection);
  if (!instances.ok()) return fail(std::string(instances.status().message()));
  const ReadOptions read = {
      .limit = std::numeric_limits<uint64_t>::max(),
      .only = {"workload_stats", "policy_deny_counts", "inbound_stats", "shortcircuit_stats"}};
  std::vector<InstanceStats> all;
  for (const AgentInstance& instance : *instances) {
    auto maps = ReadPinnedMaps(instance.dir, read);
    if (!maps.ok()) {
      return fail(absl::IsNotFound(maps.status()) ? NoMapsReason(instance)
                                                  : std::string(maps.status().message()));
    }
    InstanceStats stats{.instance = instance};
    Collect(*maps, stats);
    auto names = FetchWorkloadNames(instance);
    if (names.ok()) {
      stats.names = *std::move(names);
      // An enrolled workload that has not connected yet still gets a (zero) row.
      for (const auto& [id, name] : stats.names->by_id) stats.workloads.try_emplace(id);
    } else {
      stats.names_error = std::string(names.status().message());
    }
    all.push_back(std::move(stats));
  }
  if (output == "json") {
    std::string out = "[";
    for (size_t i = 0; i < all.size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", InstanceJson(all[i]));
    }
    std::cout << out << "]\n";
  } else {
    PrintStatsTable(all);
  }
  return 0;
}

}  // namespace weft::weftctl
