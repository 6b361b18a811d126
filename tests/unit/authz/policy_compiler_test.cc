// PolicyCompiler without the kernel: which map entries a snapshot compiles to,
// and what it leaves to ztunnel (and says so).
#include "agent/bpf/policy/policy_compiler.h"

#include <arpa/inet.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace weft::bpf::policy {
namespace {

using weft::config::v1::ClusterConfig;

constexpr char kBase[] = R"pb(
  namespaces {
    name: "front"
    labels { key: "weft.dev/dataplane-mode" value: "ambient" }
  }
  namespaces {
    name: "back"
    labels { key: "weft.dev/dataplane-mode" value: "ambient" }
  }
  namespaces { name: "legacy" }
  workloads { uid: "web" namespace: "front" service_account: "web" addresses: "10.0.0.1" }
  workloads {
    uid: "db"
    namespace: "back"
    service_account: "db"
    addresses: "10.0.1.1"
    addresses: "fd00::11"
    labels { key: "app" value: "db" }
  }
  workloads { uid: "cache" namespace: "back" service_account: "cache" addresses: "10.0.1.2" }
  workloads { uid: "old" namespace: "legacy" addresses: "10.0.2.1" }
  workloads { uid: "vm" namespace: "back" protocol: TCP addresses: "10.0.3.1" }
  workloads {
    uid: "optout"
    namespace: "back"
    addresses: "10.0.3.2"
    labels { key: "weft.dev/dataplane-mode" value: "none" }
  }
)pb";

ClusterConfig Config(const std::string& extra) {
  ClusterConfig c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kBase + extra, &c));
  return c;
}

const SourceWorkload kWeb{7, "front", "web", {"10.0.0.1"}};

CompiledPolicyMaps Compile(const ClusterConfig& c, PolicyCapacity capacity = {}) {
  auto compiler = PolicyCompiler::Create(c);
  EXPECT_TRUE(compiler.ok()) << compiler.status();
  return (*compiler)->Compile({kWeb}, capacity);
}

uint32_t V4(const char* text) {
  uint32_t a = 0;
  inet_pton(AF_INET, text, &a);
  return a;
}

const weft_policy_dst_value* FindV4(const CompiledPolicyMaps& m, const char* addr) {
  for (const auto& [k, v] : m.dst_v4) {
    if (k.addr == V4(addr)) return &v;
  }
  return nullptr;
}

std::vector<std::pair<weft_policy_verdict_key, weft_policy_verdict_value>> VerdictsFor(
    const CompiledPolicyMaps& m, uint32_t dst_id) {
  std::vector<std::pair<weft_policy_verdict_key, weft_policy_verdict_value>> out;
  for (const auto& e : m.verdicts) {
    if (e.first.dst_id == dst_id) out.push_back(e);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first.dst_port < b.first.dst_port; });
  return out;
}

TEST(PolicyCompilerTest, OnlyMeshDestinationsAreKnown) {
  CompiledPolicyMaps m = Compile(Config(""));
  EXPECT_NE(FindV4(m, "10.0.1.1"), nullptr);
  EXPECT_NE(FindV4(m, "10.0.0.1"), nullptr);
  EXPECT_EQ(FindV4(m, "10.0.2.1"), nullptr) << "namespace not ambient";
  EXPECT_EQ(FindV4(m, "10.0.3.1"), nullptr) << "protocol TCP";
  EXPECT_EQ(FindV4(m, "10.0.3.2"), nullptr) << "pod opted out";
  EXPECT_EQ(m.dst_v6.size(), 1u);
}

TEST(PolicyCompilerTest, WaypointDestinationsAreLeftToTheWaypointPath) {
  CompiledPolicyMaps m = Compile(Config(R"pb(
    namespaces {
      name: "shop"
      labels { key: "weft.dev/dataplane-mode" value: "ambient" }
      labels { key: "weft.dev/use-waypoint" value: "shop-wp" }
    }
    workloads { uid: "cart" namespace: "shop" addresses: "10.0.4.1" }
    workloads { uid: "pay" namespace: "back" waypoint: "pay-wp" addresses: "10.0.4.2" }
    workloads {
      uid: "ship"
      namespace: "back"
      addresses: "10.0.4.3"
      labels { key: "weft.dev/use-waypoint" value: "ship-wp" }
    }
  )pb"));
  EXPECT_EQ(FindV4(m, "10.0.4.1"), nullptr) << "namespace label";
  EXPECT_EQ(FindV4(m, "10.0.4.2"), nullptr) << "workload waypoint";
  EXPECT_EQ(FindV4(m, "10.0.4.3"), nullptr) << "pod label";
  EXPECT_NE(FindV4(m, "10.0.1.1"), nullptr);
}

TEST(PolicyCompilerTest, DestinationWithoutPolicyIsOpenAndCostsNoVerdicts) {
  CompiledPolicyMaps m = Compile(Config(""));
  const weft_policy_dst_value* db = FindV4(m, "10.0.1.1");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->flags, static_cast<uint32_t>(WEFT_POLICY_DST_OPEN));
  EXPECT_TRUE(m.verdicts.empty());
  EXPECT_TRUE(m.issues.empty());
}

TEST(PolicyCompilerTest, PortEntriesOnlyWhereTheyDifferFromTheWildcard) {
  CompiledPolicyMaps m = Compile(Config(R"pb(
    authorization_policies {
      name: "db-from-front"
      namespace: "back"
      action: ALLOW
      selector { match_labels { key: "app" value: "db" } }
      rules {
        from { namespaces: "front" }
        to { ports: 5432 }
      }
      rules {
        from { namespaces: "other" }
        to { ports: 6432 }
      }
    }
  )pb"));
  const weft_policy_dst_value* db = FindV4(m, "10.0.1.1");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->flags, 0u);
  auto v = VerdictsFor(m, db->dst_id);
  // Port 6432 is decided like every unlisted port (DENY), so it has no entry.
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first.src_workload_id, 7u);
  EXPECT_EQ(v[0].first.dst_port, 0);
  EXPECT_EQ(v[0].second.verdict, WEFT_POLICY_DENY);
  EXPECT_EQ(v[0].second.policy_id, 0u);
  EXPECT_EQ(v[1].first.dst_port, 5432);
  EXPECT_EQ(v[1].second.verdict, WEFT_POLICY_ALLOW);
  EXPECT_EQ(v[1].second.policy_id, 1u);
  EXPECT_EQ(m.policy_names.at(0), "back/db-from-front");
  // The cache workload is not selected: still open.
  EXPECT_EQ(FindV4(m, "10.0.1.2")->flags, static_cast<uint32_t>(WEFT_POLICY_DST_OPEN));
}

TEST(PolicyCompilerTest, EachAddressFamilyGetsItsOwnVerdict) {
  CompiledPolicyMaps m = Compile(Config(R"pb(
    authorization_policies {
      name: "v4-only"
      namespace: "back"
      action: ALLOW
      rules { when { key: "destination.ip" values: "10.0.0.0/8" } }
    }
  )pb"));
  const weft_policy_dst_value* db = FindV4(m, "10.0.1.1");
  ASSERT_NE(db, nullptr);
  auto v4 = VerdictsFor(m, db->dst_id);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].second.verdict, WEFT_POLICY_ALLOW);
  // The source has no IPv6 address: no v6 connection, so no v6 verdict.
  ASSERT_EQ(m.dst_v6.size(), 1u);
  EXPECT_TRUE(VerdictsFor(m, m.dst_v6[0].second.dst_id).empty());
  EXPECT_NE(m.dst_v6[0].second.dst_id, db->dst_id);
}

TEST(PolicyCompilerTest, L7PolicyIsDeferredAndNamed) {
  CompiledPolicyMaps m = Compile(Config(R"pb(
    authorization_policies {
      name: "no-delete"
      namespace: "back"
      action: DENY
      rules { to { methods: "DELETE" } }
    }
  )pb"));
  auto v = VerdictsFor(m, FindV4(m, "10.0.1.1")->dst_id);
  EXPECT_TRUE(v.empty()) << "a missing entry is already DEFER";
  ASSERT_EQ(m.issues.size(), 1u);
  EXPECT_EQ(m.issues[0].policy_namespace, "back");
  EXPECT_EQ(m.issues[0].policy_name, "no-delete");
  EXPECT_NE(m.issues[0].reason.find("L7"), std::string::npos);
  EXPECT_TRUE(m.deferred.empty()) << "NEEDS_L7 is the reference's own answer, not a fallback";
}

TEST(PolicyCompilerTest, MapsFullDefersWholeDestinationsAndNamesThePolicy) {
  const ClusterConfig c = Config(R"pb(
    authorization_policies {
      name: "deny-web"
      namespace: "back"
      action: DENY
      rules { from { namespaces: "front" } }
    }
  )pb");
  CompiledPolicyMaps full = Compile(c);
  EXPECT_EQ(full.verdicts.size(), 2u);  // web -> cache, db v4 (web has no v6)
  CompiledPolicyMaps m = Compile(c, {16, 16, 1});
  EXPECT_EQ(m.verdicts.size(), 1u);
  EXPECT_EQ(m.deferred.size(), 1u);
  const uint32_t dropped = m.deferred.begin()->second;
  for (const auto& [k, v] : m.dst_v4) EXPECT_NE(v.dst_id, dropped) << "its address must go too";
  bool named = false;
  for (const CompileIssue& i : m.issues) {
    named |= i.policy_name == "deny-web" && i.reason.find("full") != std::string::npos;
  }
  EXPECT_TRUE(named);
}

TEST(PolicyCompilerTest, VerdictThatDependsOnWhichSourceAddressIsDeferred) {
  auto compiler = PolicyCompiler::Create(Config(R"pb(
    authorization_policies {
      name: "one-source-ip"
      namespace: "back"
      action: ALLOW
      rules { from { ip_blocks: "10.0.0.1/32" } }
    }
  )pb"));
  ASSERT_TRUE(compiler.ok());
  // The kernel key has no source address: two v4 addresses, two answers.
  const SourceWorkload two_ips{8, "front", "web", {"10.0.0.1", "10.0.0.9"}};
  CompiledPolicyMaps m = (*compiler)->Compile({two_ips}, PolicyCapacity{});
  const uint32_t db = m.destination_ids.at("10.0.1.1");
  EXPECT_TRUE(VerdictsFor(m, db).empty());
  EXPECT_TRUE(m.deferred.contains({8, db}));
  ASSERT_FALSE(m.issues.empty());
  EXPECT_EQ(m.issues[0].policy_name, "one-source-ip");
  EXPECT_NE(m.issues[0].reason.find("source's addresses"), std::string::npos);
}

TEST(PolicyCompilerTest, SharedAddressIsLeftToZtunnel) {
  CompiledPolicyMaps m = Compile(Config(R"pb(
    workloads { uid: "twin" namespace: "back" addresses: "10.0.1.2" }
  )pb"));
  EXPECT_EQ(FindV4(m, "10.0.1.2"), nullptr);
  ASSERT_EQ(m.issues.size(), 1u);
  EXPECT_NE(m.issues[0].reason.find("shared"), std::string::npos);
}

TEST(PolicyCompilerTest, DestinationIdsSurviveOtherWorkloadsChanging) {
  CompiledPolicyMaps before = Compile(Config(""));
  CompiledPolicyMaps after = Compile(Config(R"pb(
    workloads { uid: "aaa-new" namespace: "back" addresses: "10.0.9.9" }
  )pb"));
  EXPECT_EQ(before.destination_ids.at("10.0.1.1"), after.destination_ids.at("10.0.1.1"));
  EXPECT_EQ(before.destination_ids.at("fd00::11"), after.destination_ids.at("fd00::11"));
}

// A node-sized snapshot: 50 local pods, 2,000 destinations, 200 policies. Prints
// how long compiling takes and what it costs in entries; bounded so that a
// regression to something quadratic fails.
TEST(PolicyCompilerScaleTest, NodeSizedSnapshotCompilesQuickly) {
  ClusterConfig c;
  for (int n = 0; n < 20; ++n) {
    auto* ns = c.add_namespaces();
    ns->set_name(absl::StrCat("ns", n));
    (*ns->mutable_labels())["weft.dev/dataplane-mode"] = "ambient";
  }
  std::vector<SourceWorkload> sources;
  for (int i = 0; i < 2000; ++i) {
    auto* w = c.add_workloads();
    w->set_uid(absl::StrCat("w", i));
    w->set_namespace_(absl::StrCat("ns", i % 20));
    w->set_service_account(absl::StrCat("sa", i % 7));
    w->add_addresses(absl::StrCat("10.", i / 250, ".", i % 250, ".1"));
    (*w->mutable_labels())["app"] = absl::StrCat("app", i % 10);
    if (i < 50)
      sources.push_back(
          {static_cast<uint32_t>(i + 1), w->namespace_(), w->service_account(), {w->addresses(0)}});
  }
  for (int p = 0; p < 200; ++p) {
    auto* ap = c.add_authorization_policies();
    ap->set_name(absl::StrCat("p", p));
    ap->set_namespace_(absl::StrCat("ns", p % 20));
    ap->set_action(p % 3 == 0 ? weft::config::v1::AuthorizationPolicy::DENY
                              : weft::config::v1::AuthorizationPolicy::ALLOW);
    (*ap->mutable_selector()->mutable_match_labels())["app"] = absl::StrCat("app", p % 10);
    auto* rule = ap->add_rules();
    rule->add_from()->add_namespaces(absl::StrCat("ns", (p + 1) % 20));
    rule->add_to()->add_ports(8000 + p % 5);
  }
  const auto start = std::chrono::steady_clock::now();
  auto compiler = PolicyCompiler::Create(c);
  ASSERT_TRUE(compiler.ok());
  CompiledPolicyMaps m = (*compiler)->Compile(sources, PolicyCapacity{});
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "compile: 50 sources x 2000 destinations x 200 policies -> %zu verdicts, %zu "
      "addresses in %.1f ms\n",
      m.verdicts.size(), m.dst_v4.size(), ms);
  EXPECT_EQ(m.dst_v4.size(), 2000u);
  EXPECT_TRUE(m.deferred.empty());
  EXPECT_LE(m.verdicts.size(), PolicyCapacity{}.verdicts);
  EXPECT_LT(ms, 5000.0);
}

}  // namespace
}  // namespace weft::bpf::policy
