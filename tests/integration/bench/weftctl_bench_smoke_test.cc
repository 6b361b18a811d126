// Runs `weftctl bench --quick` for real (root: it brings up its own bench lab) and checks
// the harness, not the mesh: it exits 0 or 1 (1 = some row failed and says why), writes
// results.json, results.md and both PNG plots, the JSON validates against
// bench/suite/results.schema.json, and every mode produced numbers for every scenario,
// a per-hop breakdown, and (for modes with mesh processes) CPU per unit of work.
// No timing assertions.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace weft::bench {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Field(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

double Number(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? -1 : it->second.number_value();
}

TEST(WeftctlBenchSmokeTest, QuickRunMeasuresEveryModeAndWritesEveryFile) {
  char dir[] = "/tmp/weftctl-bench-smoke-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string out = std::string(dir) + "/results";
  const std::string cmd = std::string(WEFTCTL_BINARY) + " bench --quick --out " + out + " > " +
                          dir + "/stdout 2>&1";
  const int status = std::system(cmd.c_str());
  const std::string printed = ReadFile(std::string(dir) + "/stdout");
  ASSERT_TRUE(WIFEXITED(status)) << printed;
  EXPECT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1) << printed;

  for (const char* png : {"latency.png", "throughput.png"}) {
    EXPECT_EQ(ReadFile(out + "/" + png).substr(0, 4), "\x89PNG") << png << "\n" << printed;
  }
  const std::string md = ReadFile(out + "/results.md");
  for (const char* mode :
       {"direct", "mesh", "mesh-nosockmap", "iptables", "stunnel", "splice-relay"}) {
    EXPECT_NE(md.find(std::string("`") + mode + "`"), std::string::npos) << mode;
  }
  EXPECT_NE(md.find("## Per hop"), std::string::npos);

  const std::string validate =
      "/usr/bin/python3 -c 'import json,sys,jsonschema; "
      "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' " + out +
      "/results.json " WEFT_SOURCE_DIR "/bench/suite/results.schema.json";
  EXPECT_EQ(std::system(validate.c_str()), 0) << validate;

  Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFile(out + "/results.json"), &doc)
                  .ok())
      << printed;
  // (scenario, mode) pairs with a measured headline number; modes with per-hop totals and
  // with CPU accounting.
  std::set<std::pair<std::string, std::string>> measured;
  std::set<std::string> hop_modes, cpu_modes;
  for (const Value& v : doc.fields().at("rows").list_value().values()) {
    const Struct& row = v.struct_value();
    const std::string metric = Field(row, "metric");
    if (Number(row, "n") < 1) continue;
    if (Field(row, "process").empty() && Field(row, "hop").empty() &&
        (metric == "latency_p50" || metric == "throughput")) {
      measured.insert({Field(row, "scenario"), Field(row, "mode")});
    }
    if (metric == "hop_p50" && Field(row, "hop").rfind("total", 0) == 0) {
      hop_modes.insert(Field(row, "mode"));
    }
    if (Field(row, "process") == "all") cpu_modes.insert(Field(row, "mode"));
  }
  for (const char* scenario : {"rr_1B_c1", "rr_1KiB_c1", "rr_1B_c16", "rr_1KiB_c16",
                               "connrate_1KiB", "bulk_c1", "bulk_c8"}) {
    for (const char* mode :
         {"direct", "mesh", "mesh-nosockmap", "iptables", "stunnel", "splice-relay"}) {
      EXPECT_TRUE(measured.count({scenario, mode})) << scenario << " / " << mode << "\n" << printed;
    }
  }
  EXPECT_EQ(hop_modes, (std::set<std::string>{"direct", "mesh", "mesh-nosockmap", "iptables",
                                              "stunnel", "splice-relay"}))
      << printed;
  EXPECT_EQ(cpu_modes, (std::set<std::string>{"mesh", "mesh-nosockmap", "iptables", "stunnel",
                                              "splice-relay"}));
}

}  // namespace
}  // namespace weft::bench
