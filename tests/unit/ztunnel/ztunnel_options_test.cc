// weft-ztunnel's command line: defaults, values, and errors that name the flag.
#include "ztunnel/ztunnel_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace weft::ztunnel {
namespace {

std::vector<std::string> WithNode(std::vector<std::string> args) {
  args.insert(args.begin(), {"--node", "node-a"});
  return args;
}

// The error for `args`, which must not parse.
std::string ErrorOf(const std::vector<std::string>& args) {
  absl::StatusOr<ZtunnelOptions> o = ParseZtunnelOptions(args);
  EXPECT_FALSE(o.ok());
  if (o.ok()) return "";
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(o.status().message());
}

TEST(ZtunnelOptionsTest, Defaults) {
  absl::StatusOr<ZtunnelOptions> o = ParseZtunnelOptions(WithNode({}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->node, "node-a");
  EXPECT_EQ(o->workers, 0);
  EXPECT_EQ(o->mark, 1337);
  EXPECT_EQ(o->access_log, "stdout");
  EXPECT_EQ(o->admin_addr, "127.0.0.1:15021");
  EXPECT_EQ(o->node_api_socket, "/run/weft/default/node-api.sock");
  EXPECT_EQ(o->netns_socket, "/run/weft/default/netns.sock");
  EXPECT_EQ(o->cert_ttl, absl::Hours(24));
  EXPECT_EQ(o->drain_timeout, absl::Seconds(30));
  EXPECT_EQ(o->connect_timeout, absl::Seconds(5));
  EXPECT_EQ(o->pool_idle_timeout, absl::Seconds(60));
  EXPECT_EQ(o->max_streams_per_connection, 100);
  EXPECT_EQ(o->log_level, log::Level::kInfo);
  EXPECT_EQ(o->log_format, log::Format::kText);
  EXPECT_FALSE(o->help);
}

TEST(ZtunnelOptionsTest, ValuesAreTaken) {
  absl::StatusOr<ZtunnelOptions> o = ParseZtunnelOptions(
      WithNode({"--workers", "3", "--cert-ttl=2h", "--drain-timeout", "1500ms",
                "--connect-timeout=250ms", "--pool-idle-timeout", "5m", "--mark=0", "--access-log",
                "off", "--log-level", "debug", "--log-format=json"}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->workers, 3);
  EXPECT_EQ(o->cert_ttl, absl::Hours(2));
  EXPECT_EQ(o->drain_timeout, absl::Milliseconds(1500));
  EXPECT_EQ(o->connect_timeout, absl::Milliseconds(250));
  EXPECT_EQ(o->pool_idle_timeout, absl::Minutes(5));
  EXPECT_EQ(o->mark, 0);
  EXPECT_EQ(o->access_log, "off");
  EXPECT_EQ(o->log_level, log::Level::kDebug);
  EXPECT_EQ(o->log_format, log::Format::kJson);
}

TEST(ZtunnelOptionsTest, NodeIsRequired) {
  EXPECT_NE(ErrorOf({"--workers", "2"}).find("--node"), std::string::npos);
}

TEST(ZtunnelOptionsTest, HelpListsFlagsWithoutNode) {
  absl::StatusOr<ZtunnelOptions> o = ParseZtunnelOptions({"--help"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->help);
  for (const char* flag : {"--node", "--workers", "--access-log", "--drain-timeout", "--mark"}) {
    EXPECT_NE(o->usage.find(flag), std::string::npos) << flag;
  }
}

TEST(ZtunnelOptionsTest, BadValuesNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"--workers", "many"}, "--workers"},
      {{"--workers", "-1"}, "--workers"},
      {{"--workers", "100000"}, "--workers"},
      {{"--cert-ttl", "soon"}, "--cert-ttl"},
      {{"--cert-ttl", "0s"}, "--cert-ttl"},
      {{"--drain-timeout", "-5s"}, "--drain-timeout"},
      {{"--connect-timeout", "5"}, "--connect-timeout"},
      {{"--pool-idle-timeout", "x"}, "--pool-idle-timeout"},
      {{"--mark", "-1"}, "--mark"},
      {{"--max-streams-per-connection", "0"}, "--max-streams-per-connection"},
      {{"--stream-window", "10"}, "--stream-window"},
      {{"--connection-window", "4294967296"}, "--connection-window"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--log-format", "xml"}, "--log-format"},
  };
  for (const Case& c : cases) {
    const std::string error = ErrorOf(WithNode(c.args));
    EXPECT_NE(error.find(c.flag), std::string::npos)
        << c.args[0] << " " << c.args[1] << " gave: " << error;
  }
}

TEST(ZtunnelOptionsTest, UnknownFlagAndStrayArgumentAreRefused) {
  EXPECT_NE(ErrorOf(WithNode({"--no-such-flag", "1"})).find("--no-such-flag"), std::string::npos);
  EXPECT_NE(ErrorOf(WithNode({"stray"})).find("stray"), std::string::npos);
}

}  // namespace
}  // namespace weft::ztunnel
