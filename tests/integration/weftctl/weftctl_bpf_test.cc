// `weftctl bpf maps` and `weftctl bpf stats` against a real lab: every node agent's
// capture maps are listed and decoded, both commands print JSON that parses, and a
// selection with nothing pinned fails with a reason.
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
  ASSERT_TRUE(ParseJsonArray(stats_json.out, &stats_instances)) << stats_json.out;
  ASSERT_EQ(stats_instances.values_size(), state.nodes_size());
  for (const Value& instance : stats_instances.values()) {
    // The lab's agents are up, so names come from them.
    EXPECT_TRUE(Field(instance, "names_from")->has_string_value()) << stats_json.out;
    EXPECT_TRUE(Field(instance, "workloads")->has_list_value()) << stats_json.out;
  }
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
