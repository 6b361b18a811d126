#include "tests/integration/bench/run_report_check.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace weft::bench {

using google::protobuf::Struct;
using google::protobuf::Value;

void ExpectQuickRunReportsEveryRow(const std::string& binary, const std::string& name,
                                   const std::string& table_marker,
                                   const std::set<std::pair<std::string, std::string>>& rows,
                                   const std::set<std::string>& one_sample_metrics) {
  std::string dir = "/tmp/" + name + "-smoke-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string out = dir + "/" + name + ".json";
  const std::string cmd = binary + " --quick --out " + out + " > " + dir + "/stdout 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream stdout_file(dir + "/stdout");
  std::stringstream printed;
  printed << stdout_file.rdbuf();
  ASSERT_TRUE(WIFEXITED(status)) << printed.str();
  // 0: every repetition measured; 1: some failed and say so. 2/130: setup, usage, signal.
  EXPECT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1) << printed.str();
  EXPECT_NE(printed.str().find(table_marker), std::string::npos) << "no table printed";

  std::ifstream file(out);
  ASSERT_TRUE(file.good()) << "no JSON at " << out << "\n" << printed.str();
  std::stringstream json;
  json << file.rdbuf();
  Struct doc;
  auto parsed = google::protobuf::util::JsonStringToMessage(json.str(), &doc);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString() << "\n" << json.str();

  const auto& f = doc.fields();
  ASSERT_TRUE(f.contains("machine") && f.contains("rows") && f.contains("date_utc"));
  const auto& machine = f.at("machine").struct_value().fields();
  EXPECT_GT(machine.at("cores").number_value(), 0);
  EXPECT_FALSE(machine.at("kernel").string_value().empty());
  EXPECT_FALSE(machine.at("cpu_model").string_value().empty());
  EXPECT_FALSE(f.at("date_utc").string_value().empty());
  const double repetitions =
      f.at("config").struct_value().fields().at("repetitions").number_value();
  EXPECT_GE(repetitions, 5);

  std::set<std::pair<std::string, std::string>> seen;
  bool all_ok = true;
  for (const Value& v : f.at("rows").list_value().values()) {
    const auto& row = v.struct_value().fields();
    std::pair<std::string, std::string> key = {row.at("metric").string_value(),
                                               row.at("mode").string_value()};
    EXPECT_TRUE(seen.insert(key).second) << "duplicate row " << key.first << " " << key.second;
    const int samples = row.at("samples").list_value().values_size();
    const int errors = row.at("errors").list_value().values_size();
    EXPECT_GT(samples, 0) << key.first << " " << key.second << " produced no number\n"
                          << printed.str();
    EXPECT_EQ(row.at("median").kind_case(), Value::kNumberValue) << key.first << " " << key.second;
    // Never silently short: each missing sample is explained by an error.
    const int want = one_sample_metrics.contains(key.first) ? 1 : static_cast<int>(repetitions);
    EXPECT_GE(samples + errors, want) << key.first << " " << key.second;
    EXPECT_EQ(row.at("failed").bool_value(), errors > 0 || samples == 0)
        << key.first << " " << key.second;
    all_ok = all_ok && errors == 0 && samples > 0;
  }
  EXPECT_EQ(seen, rows);
  EXPECT_EQ(f.at("ok").bool_value(), all_ok);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace weft::bench
