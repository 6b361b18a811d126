#include "agent/weftctl/bpf_maps_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "agent/weftctl/bpf_instance_selection.h"
#include "agent/weftctl/map_decoders.h"
#include "agent/weftctl/pinned_maps.h"
#include "agent/weftctl/text_table.h"
#include "agent/weftctl/command_flags.h"
#include "common/cli/flag_set.h"
#include "common/json/json_string.h"

namespace weft::weftctl {
namespace {

struct InstanceMaps {
  AgentInstance instance;
  std::vector<PinnedMap> maps;
};

std::string EntryText(const DecodedEntry& entry) {
  std::string line;
  for (const DecodedField& field : entry) {
    absl::StrAppend(&line, line.empty() ? "" : " ", field.name, "=", field.text);
  }
  return line;
}

std::string Note(const PinnedMap& map) {
  if (!map.error.empty()) return map.error;
  if (!HasDecoder(map)) return "not decoded (unknown map)";
  return "";
}

void PrintMapsTable(const std::vector<InstanceMaps>& all) {
  for (size_t n = 0; n < all.size(); ++n) {
    const InstanceMaps& im = all[n];
    std::cout << (n ? "\n" : "") << "instance " << im.instance.name << " (" << im.instance.dir
              << ")\n";
    std::vector<std::vector<std::string>> rows = {
        {"PIN", "TYPE", "KEY", "VALUE", "MAX", "ENTRIES", "NOTE"}};
    for (const PinnedMap& map : im.maps) {
      rows.push_back({map.relative_path, map.type_name, absl::StrCat(map.key_size),
                      absl::StrCat(map.value_size), absl::StrCat(map.max_entries),
                      absl::StrCat(map.entry_count), Note(map)});
    }
    PrintTable(std::cout, rows, "  ");
    for (const PinnedMap& map : im.maps) {
      if (map.entries.empty() || !HasDecoder(map)) continue;
      std::cout << "\n  " << map.relative_path << (map.per_cpu ? " (per-CPU values summed)" : "")
                << ":\n";
      for (const MapEntry& entry : map.entries) {
        auto decoded = DecodeEntry(map, entry);
        if (decoded) std::cout << "    " << EntryText(*decoded) << "\n";
      }
      if (map.entries_left_out > 0) {
        std::cout << "    ... " << map.entries_left_out << " more not shown (--limit)\n";
      }
    }
  }
}

std::string EntryJson(const DecodedEntry& entry) {
  std::string out = "{";
  for (size_t i = 0; i < entry.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", json::Quoted(entry[i].name), ":",
                    entry[i].number ? absl::StrCat(*entry[i].number) : json::Quoted(entry[i].text));
  }
  return out + "}";
}

std::string MapJson(const PinnedMap& map) {
  std::string out = absl::StrCat(
      "{\"pin\":", json::Quoted(map.relative_path), ",\"path\":", json::Quoted(map.path),
      ",\"name\":", json::Quoted(map.name), ",\"id\":", map.id,
      ",\"type\":", json::Quoted(map.type_name), ",\"key_size\":", map.key_size,
      ",\"value_size\":", map.value_size, ",\"max_entries\":", map.max_entries,
      ",\"flags\":", map.flags, ",\"per_cpu\":", map.per_cpu ? "true" : "false",
      ",\"read_only\":", map.read_only ? "true" : "false", ",\"entry_count\":", map.entry_count,
      ",\"entries_left_out\":", map.entries_left_out);
  if (!map.error.empty()) absl::StrAppend(&out, ",\"error\":", json::Quoted(map.error));
  const bool decoded = HasDecoder(map);
  absl::StrAppend(&out, ",\"decoded\":", decoded ? "true" : "false");
  if (decoded) {
    out += ",\"entries\":[";
    bool first = true;
    for (const MapEntry& entry : map.entries) {
      auto fields = DecodeEntry(map, entry);
      if (!fields) continue;
      absl::StrAppend(&out, first ? "" : ",", EntryJson(*fields));
      first = false;
    }
    out += "]";
  }
  return out + "}";
}

void PrintMapsJson(const std::vector<InstanceMaps>& all) {
  std::string out = "[";
  for (size_t n = 0; n < all.size(); ++n) {
    absl::StrAppend(&out, n ? "," : "", "{\"instance\":", json::Quoted(all[n].instance.name),
                    ",\"dir\":", json::Quoted(all[n].instance.dir));
    if (!all[n].instance.node.empty()) {
      absl::StrAppend(&out, ",\"node\":", json::Quoted(all[n].instance.node));
    }
    out += ",\"maps\":[";
    for (size_t i = 0; i < all[n].maps.size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", MapJson(all[n].maps[i]));
    }
    out += "]}";
  }
  std::cout << out << "]\n";
}

}  // namespace

int RunBpfMaps(const std::vector<std::string>& args) {
  InstanceSelectionFlags selection;
  std::string output;
  int64_t limit = 0;
  cli::FlagSet flags(
      "weftctl bpf maps [--bpffs DIR] [--instance NAME | --lab LAB] [--limit N] "
      "[--output table|json]",
      "Lists every BPF map a node agent pinned, with a decoded dump of its entries.");
  AddInstanceSelectionFlags(flags, &selection);
  flags.Int("limit", &limit, 100, "entries dumped per map (all are counted)");
  flags.String("output", &output, "table", "table or json");
  if (auto exit = ParseCommandFlags(flags, args, "bpf maps", output)) return *exit;
  auto fail = [](const std::string& why) { return CommandFailure("bpf maps", why); };
  if (limit < 0) return fail("--limit must not be negative");
  auto instances = SelectInstances(selection);
  if (!instances.ok()) return fail(std::string(instances.status().message()));
  std::vector<InstanceMaps> all;
  for (const AgentInstance& instance : *instances) {
    auto maps = ReadPinnedMaps(instance.dir, {.limit = static_cast<uint64_t>(limit)});
    if (!maps.ok()) {
      return fail(absl::IsNotFound(maps.status()) ? NoMapsReason(instance)
                                                  : std::string(maps.status().message()));
    }
    all.push_back({instance, *std::move(maps)});
  }
  if (output == "json") {
    PrintMapsJson(all);
  } else {
    PrintMapsTable(all);
  }
  return 0;
}

}  // namespace weft::weftctl
