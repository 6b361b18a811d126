// `weftctl bpf maps` and `weftctl bpf stats` against a real lab: every node agent's
// capture maps are listed and decoded, both commands print JSON that parses, and a
// selection with nothing pinned fails with a reason. `weftctl workloads` lists every
// enrolled pod, and a captured connect shows up in `bpf stats` (count and histogram).
#include <set>
#include <string>

#include "bpf/capture.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/lab/lab_test_support.h"

namespace weft::lab::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// Brings a lab up for the test and always takes it down, also when an assertion failed.
class LabGuard {
 public:
  explicit LabGuard(std::string name) : name_(std::move(name)) {}
  ~LabGuard() { Weftctl({"lab", "down", "--name", name_}, 120); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// The JSON arrays weftctl prints, wrapped so protobuf's JSON parser can read them.
bool ParseJsonArray(const std::string& text, google::protobuf::ListValue* out) {
  Struct wrapper;
  if (!google::protobuf::util::JsonStringToMessage("{\"v\":" + text + "}", &wrapper).ok()) {
    return false;
  }
  *out = wrapper.fields().at("v").list_value();
  return true;
}

const Value* Field(const Value& object, const std::string& name) {
  const auto& fields = object.struct_value().fields();
  auto it = fields.find(name);
  return it == fields.end() ? nullptr : &it->second;
}

TEST(WeftctlBpf, MapsAndStatsOfALab) {
  LabGuard lab(UniqueLabName("wb"));
  ProcessResult up =
      Weftctl({"lab", "up", TwoNodeTopologyPath(), "--name", lab.name(), "--detach"}, 120);
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  const auto state = ReadLabState(lab.name());
  ASSERT_GT(state.nodes_size(), 0);

  // `weftctl workloads`: every pod of the topology enrolled, with its netns cookie,
  // identity and mode. Enrollment follows `lab up` by up to a few seconds.
  google::protobuf::ListValue nodes;
  std::set<std::string> enrolled;
  std::string last;
  ASSERT_TRUE(WaitUntil(
      [&] {
        ProcessResult listed = Weftctl({"workloads", "--lab", lab.name(), "--output", "json"});
        last = listed.out + listed.err;
        enrolled.clear();
        if (listed.exit_code != 0 || !ParseJsonArray(listed.out, &nodes)) return false;
        for (const Value& node : nodes.values()) {
          const Value* listed_workloads = Field(node, "workloads");  // absent when none
          if (listed_workloads == nullptr) continue;
          for (const Value& w : listed_workloads->list_value().values()) {
            EXPECT_GT(std::stoull(Field(w, "netns_cookie")->string_value()), 0u) << last;
            const std::string& identity = Field(w, "identity")->string_value();
            EXPECT_EQ(identity.rfind("spiffe://cluster.local/ns/demo/sa/", 0), 0u) << last;
            EXPECT_EQ(Field(w, "mode")->string_value(), "PERMISSIVE") << last;
            enrolled.insert(Field(w, "namespace")->string_value() + "/" +
                            Field(w, "name")->string_value());
          }
        }
        return enrolled.size() == 4;
      },
      10000))
      << last;
  EXPECT_EQ(enrolled, (std::set<std::string>{"demo/client", "demo/client-2", "demo/server",
                                             "demo/server-2"}));
  ProcessResult workloads_table = Weftctl({"workloads", "--lab", lab.name()});
  EXPECT_EQ(workloads_table.exit_code, 0) << workloads_table.err;
  EXPECT_NE(workloads_table.out.find("spiffe://cluster.local/ns/demo/sa/client"),
            std::string::npos)
      << workloads_table.out;

  // One captured connect from demo/client (ztunnel's 15001 accepts it), for the stats below.
  ProcessResult connect = Weftctl({"lab", "exec", "--name", lab.name(), "demo/client", "--",
                                   "bash", "-c", "exec 3<>/dev/tcp/10.244.1.2/8080"});
  EXPECT_EQ(connect.exit_code, 0) << connect.out << connect.err;

  ProcessResult maps = Weftctl({"bpf", "maps", "--lab", lab.name(), "--output", "json"});
  ASSERT_EQ(maps.exit_code, 0) << maps.err;
  google::protobuf::ListValue instances;
  ASSERT_TRUE(ParseJsonArray(maps.out, &instances)) << maps.out;
  ASSERT_EQ(instances.values_size(), state.nodes_size());
  for (const Value& instance : instances.values()) {
    const std::string name = Field(instance, "instance")->string_value();
    std::set<std::string> pins;
    for (const Value& map : Field(instance, "maps")->list_value().values()) {
      const std::string pin = Field(map, "pin")->string_value();
      pins.insert(pin);
      if (pin == "maps/capture_settings") {
        // The one entry the agent writes at start, decoded through the ABI struct.
        ASSERT_TRUE(Field(map, "decoded")->bool_value()) << name;
        const auto& entries = Field(map, "entries")->list_value();
        ASSERT_EQ(entries.values_size(), 1) << name;
        EXPECT_EQ(Field(entries.values(0), "layout_version")->number_value(),
                  CAPTURE_LAYOUT_VERSION);
        EXPECT_EQ(Field(entries.values(0), "outbound_port")->number_value(),
                  CAPTURE_DEFAULT_OUTBOUND_PORT);
      }
    }
    for (const char* want :
         {"maps/enrolled_netns", "maps/capture_settings", "maps/orig_dst", "maps/capture_slots",
          "maps/excluded_ports",
          "maps/workload_stats", "maps/policy_verdicts", "inbound/maps_v1/inbound_addrs"}) {
      EXPECT_TRUE(pins.count(want)) << name << " lacks " << want << "\n" << maps.out;
    }
  }

  ProcessResult table = Weftctl({"bpf", "maps", "--lab", lab.name()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("maps/enrolled_netns"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("layout_version=" + std::to_string(CAPTURE_LAYOUT_VERSION)),
            std::string::npos)
      << table.out;

  ProcessResult stats = Weftctl({"bpf", "stats", "--lab", lab.name()});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("instance lab-" + lab.name() + "-"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("CAPTURED"), std::string::npos) << stats.out;

  ProcessResult stats_json = Weftctl({"bpf", "stats", "--lab", lab.name(), "--output", "json"});
  ASSERT_EQ(stats_json.exit_code, 0) << stats_json.err;
  google::protobuf::ListValue stats_instances;
  int client_rows = 0;
  ASSERT_TRUE(ParseJsonArray(stats_json.out, &stats_instances)) << stats_json.out;
  ASSERT_EQ(stats_instances.values_size(), state.nodes_size());
  for (const Value& instance : stats_instances.values()) {
    // The lab's agents are up, so names come from them.
    EXPECT_TRUE(Field(instance, "names_from")->has_string_value()) << stats_json.out;
    EXPECT_TRUE(Field(instance, "workloads")->has_list_value()) << stats_json.out;
    for (const Value& w : Field(instance, "workloads")->list_value().values()) {
      if (Field(w, "name")->string_value() != "demo/client") continue;
      EXPECT_GE(Field(w, "captured")->number_value(), 1) << stats_json.out;
      const Value* latency = Field(w, "connect_latency_ns");
      ASSERT_NE(latency, nullptr) << stats_json.out;
      EXPECT_GE(Field(*latency, "count")->number_value(), 1) << stats_json.out;
      ++client_rows;
    }
  }
  EXPECT_EQ(client_rows, 1) << "demo/client in exactly one instance's stats\n" << stats_json.out;
}

TEST(WeftctlBpf, NothingPinnedIsAnErrorWithAReason) {
  const std::string instance = UniqueLabName("nopin");
  ProcessResult maps = Weftctl({"bpf", "maps", "--instance", instance});
  EXPECT_EQ(maps.exit_code, 1);
  EXPECT_NE(maps.err.find("no pinned maps under"), std::string::npos) << maps.err;
  EXPECT_NE(maps.err.find("--instance " + instance), std::string::npos) << maps.err;
  ProcessResult stats = Weftctl({"bpf", "stats", "--instance", instance});
  EXPECT_EQ(stats.exit_code, 1);
  EXPECT_NE(stats.err.find("no pinned maps under"), std::string::npos) << stats.err;
}

}  // namespace
}  // namespace weft::lab::testing
