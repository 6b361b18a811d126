// Log lines render as documented: text with quoting only where needed, JSON lines
// that stay valid whatever the values contain.
#include "common/log/logger.h"

#include "common/json/json_string.h"
#include "gtest/gtest.h"

namespace weft::log {
namespace {

constexpr int64_t kTime = 1795819000123456;  // 2026-11-27T22:36:40.123456Z

TEST(LoggerRender, TextQuotesOnlyAmbiguousValues) {
  std::string line = Render(Level::kWarn, "config rejected",
                            {{"file", "/etc/weft/cluster.yaml"}, {"errors", 2},
                             {"first", "a b=c"}, {"ok", false}},
                            Format::kText, "agent", kTime);
  EXPECT_EQ(line,
            "2026-11-27T22:36:40.123456Z warn agent config rejected file=/etc/weft/cluster.yaml "
            "errors=2 first=\"a b=c\" ok=false\n");
}

TEST(LoggerRender, JsonEscapesEverything) {
  std::string line = Render(Level::kInfo, "say \"hi\"\n", {{"v", "tab\there\x01"}, {"n", 1.5}},
                            Format::kJson, "ztunnel", kTime);
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-27T22:36:40.123456Z\",\"level\":\"info\",\"component\":\"ztunnel\","
            "\"msg\":\"say \\\"hi\\\"\\n\",\"v\":\"tab\\there\\u0001\",\"n\":1.5}\n");
}

TEST(LoggerParse, LevelsAndFormats) {
  EXPECT_EQ(*ParseLevel("WARN"), Level::kWarn);
  EXPECT_FALSE(ParseLevel("loud").ok());
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("xml").ok());
}

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json::Quoted("a\"b\\c\x1f\xc3\xa9"), "\"a\\\"b\\\\c\\u001f\xc3\xa9\"");
}

}  // namespace
}  // namespace weft::log
