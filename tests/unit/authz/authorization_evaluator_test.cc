// Table of the L4 authorization semantics (common/authz/authorization_evaluator.h):
// each row is a policy set, one connection and the decision a user would see.
#include "common/authz/authorization_evaluator.h"

#include <google/protobuf/text_format.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace weft::authz {
namespace {

using weft::config::v1::ClusterConfig;

constexpr char kWeb[] = "spiffe://cluster.local/ns/front/sa/web";

struct Conn {
  std::optional<std::string> principal = kWeb;
  std::optional<std::string> ns = "front";
  std::string src_ip = "10.1.0.5";
  std::string dst_ns = "back";
  std::map<std::string, std::string> labels = {{"app", "db"}, {"tier", "data"}};
  uint16_t port = 5432;
  std::string dst_ip = "10.2.0.9";
};

Conn Plaintext() {
  Conn c;
  c.principal.reset();
  c.ns.reset();
  return c;
}
Conn From(std::string principal, std::string ns) {
  Conn c;
  c.principal = std::move(principal);
  c.ns = std::move(ns);
  return c;
}
Conn SrcIp(std::string ip) {
  Conn c;
  c.src_ip = std::move(ip);
  return c;
}
Conn Port(uint16_t port) {
  Conn c;
  c.port = port;
  return c;
}

struct Case {
  std::string name;
  std::string policies;  // text format of ClusterConfig.authorization_policies entries
  Conn conn;
  Verdict want;
  std::string want_policy;  // "" = decided by the default
};

// A policy named `name` in namespace back, with `body` (action, selector, rules).
std::string P(const std::string& name, const std::string& body) {
  return "authorization_policies { name: '" + name + "' namespace: 'back' " + body + " }\n";
}

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      {"NoPoliciesAllow", "", Conn{}, Verdict::kAllow, ""},
      {"OtherNamespaceDoesNotApply",
       "authorization_policies { name: 'x' namespace: 'front' action: ALLOW rules {} }", Conn{},
       Verdict::kAllow, ""},
      {"SelectorNotSubsetDoesNotApply",
       P("a",
         "action: ALLOW selector { match_labels { key: 'app' value: 'web' } } "
         "rules { from { principals: 'spiffe://cluster.local/ns/x/sa/y' } }"),
       Conn{}, Verdict::kAllow, ""},
      {"SelectorSubsetApplies",
       P("a",
         "action: ALLOW selector { match_labels { key: 'app' value: 'db' } } "
         "rules { from { principals: 'spiffe://cluster.local/ns/x/sa/y' } }"),
       Conn{}, Verdict::kDeny, ""},
      {"NoSelectorAppliesToNamespace",
       P("a", "action: ALLOW rules { from { principals: 'spiffe://cluster.local/ns/x/sa/y' } }"),
       Conn{}, Verdict::kDeny, ""},
      {"AllowExactPrincipal",
       P("a", "action: ALLOW rules { from { principals: '" + std::string(kWeb) + "' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"UnspecifiedActionIsAllow",
       P("a", "rules { from { principals: '" + std::string(kWeb) + "' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"AllowWithoutRulesMatchesNothing", P("a", "action: ALLOW"), Conn{}, Verdict::kDeny, ""},
      {"EmptyRuleMatchesEverything", P("a", "action: ALLOW rules {}"), Plaintext(), Verdict::kAllow,
       "a"},
      {"DenyWithoutRulesMatchesNothing", P("d", "action: DENY"), Conn{}, Verdict::kAllow, ""},
      {"DenyEmptyRuleDenies", P("d", "action: DENY rules {}"), Conn{}, Verdict::kDeny, "d"},
      {"StarPrincipalAuthenticated", P("a", "action: ALLOW rules { from { principals: '*' } }"),
       Conn{}, Verdict::kAllow, "a"},
      {"StarPrincipalNotPlaintext", P("a", "action: ALLOW rules { from { principals: '*' } }"),
       Plaintext(), Verdict::kDeny, ""},
      {"NotStarPrincipalOnlyPlaintext",
       P("a", "action: ALLOW rules { from { not_principals: '*' } }"), Plaintext(), Verdict::kAllow,
       "a"},
      {"NotStarPrincipalRefusesAuthenticated",
       P("a", "action: ALLOW rules { from { not_principals: '*' } }"), Conn{}, Verdict::kDeny, ""},
      {"SpiffeNamespaceWildcard",
       P("a", "action: ALLOW rules { from { principals: 'spiffe://cluster.local/ns/*/sa/web' } }"),
       From("spiffe://cluster.local/ns/other/sa/web", "other"), Verdict::kAllow, "a"},
      {"SpiffeNamespaceWildcardSaMismatch",
       P("a", "action: ALLOW rules { from { principals: 'spiffe://cluster.local/ns/*/sa/web' } }"),
       From("spiffe://cluster.local/ns/other/sa/api", "other"), Verdict::kDeny, ""},
      {"SpiffeSaWildcard",
       P("a",
         "action: ALLOW rules { from { principals: 'spiffe://cluster.local/ns/front/sa/*' } }"),
       From("spiffe://cluster.local/ns/front/sa/anything", "front"), Verdict::kAllow, "a"},
      {"SpiffeTrustDomainMustMatch",
       P("a", "action: ALLOW rules { from { principals: 'spiffe://cluster.local/ns/*/sa/*' } }"),
       From("spiffe://other.td/ns/front/sa/web", "front"), Verdict::kDeny, ""},
      {"PrincipalValuesOred",
       P("a",
         "action: ALLOW rules { from { principals: 'spiffe://cluster.local/ns/x/sa/y' "
         "principals: '" +
             std::string(kWeb) + "' } }"),
       Conn{}, Verdict::kAllow, "a"},
      {"NotPrincipalExcludes",
       P("a", "action: ALLOW rules { from { principals: '*' not_principals: '" + std::string(kWeb) +
                  "' } }"),
       Conn{}, Verdict::kDeny, ""},
      {"NamespaceMatch", P("a", "action: ALLOW rules { from { namespaces: 'front' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"NamespaceMismatch", P("a", "action: ALLOW rules { from { namespaces: 'other' } }"), Conn{},
       Verdict::kDeny, ""},
      {"NamespaceStarNotPlaintext", P("a", "action: ALLOW rules { from { namespaces: '*' } }"),
       Plaintext(), Verdict::kDeny, ""},
      {"NamespaceStarAuthenticated", P("a", "action: ALLOW rules { from { namespaces: '*' } }"),
       Conn{}, Verdict::kAllow, "a"},
      {"NotNamespaceExcludes", P("a", "action: ALLOW rules { from { not_namespaces: 'front' } }"),
       Conn{}, Verdict::kDeny, ""},
      {"NotNamespaceMatchesPlaintext",
       P("a", "action: ALLOW rules { from { not_namespaces: 'front' } }"), Plaintext(),
       Verdict::kAllow, "a"},
      {"IpBlockCidrV4", P("a", "action: ALLOW rules { from { ip_blocks: '10.1.0.0/16' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"IpBlockCidrV4Outside", P("a", "action: ALLOW rules { from { ip_blocks: '10.1.0.0/24' } }"),
       SrcIp("10.1.1.5"), Verdict::kDeny, ""},
      {"IpBlockBareAddress", P("a", "action: ALLOW rules { from { ip_blocks: '10.1.0.5' } }"),
       Conn{}, Verdict::kAllow, "a"},
      {"IpBlockCidrV6", P("a", "action: ALLOW rules { from { ip_blocks: 'fd00:1::/64' } }"),
       SrcIp("fd00:1::7"), Verdict::kAllow, "a"},
      {"IpBlockV4DoesNotMatchV6", P("a", "action: ALLOW rules { from { ip_blocks: '0.0.0.0/0' } }"),
       SrcIp("fd00:1::7"), Verdict::kDeny, ""},
      {"NotIpBlockExcludes",
       P("a", "action: ALLOW rules { from { not_ip_blocks: '10.1.0.0/16' } }"), Conn{},
       Verdict::kDeny, ""},
      {"PortMatch", P("a", "action: ALLOW rules { to { ports: 80 ports: 5432 } }"), Conn{},
       Verdict::kAllow, "a"},
      {"PortMismatch", P("a", "action: ALLOW rules { to { ports: 80 } }"), Conn{}, Verdict::kDeny,
       ""},
      {"NotPortExcludes", P("a", "action: ALLOW rules { to { not_ports: 5432 } }"), Conn{},
       Verdict::kDeny, ""},
      {"NotPortOtherPortMatches", P("a", "action: ALLOW rules { to { not_ports: 5432 } }"),
       Port(80), Verdict::kAllow, "a"},
      {"FromAndToAnded",
       P("a", "action: ALLOW rules { from { namespaces: 'front' } to { ports: 80 } }"), Conn{},
       Verdict::kDeny, ""},
      {"FieldsInOneSourceAnded",
       P("a", "action: ALLOW rules { from { namespaces: 'front' ip_blocks: '10.9.0.0/16' } }"),
       Conn{}, Verdict::kDeny, ""},
      {"SourcesOred",
       P("a", "action: ALLOW rules { from { namespaces: 'x' } from { ip_blocks: '10.1.0.5' } }"),
       Conn{}, Verdict::kAllow, "a"},
      {"RulesOred",
       P("a", "action: ALLOW rules { to { ports: 80 } } rules { from { namespaces: 'front' } }"),
       Conn{}, Verdict::kAllow, "a"},
      {"WhenSourceIp",
       P("a", "action: ALLOW rules { when { key: 'source.ip' values: '10.1.0.0/16' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"WhenSourceIpNotValues",
       P("a", "action: ALLOW rules { when { key: 'source.ip' not_values: '10.1.0.5' } }"), Conn{},
       Verdict::kDeny, ""},
      {"WhenSourceNamespace",
       P("a", "action: ALLOW rules { when { key: 'source.namespace' values: 'front' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"WhenSourcePrincipalPlaintext",
       P("a", "action: ALLOW rules { when { key: 'source.principal' values: '*' } }"), Plaintext(),
       Verdict::kDeny, ""},
      {"WhenDestinationPort",
       P("a", "action: ALLOW rules { when { key: 'destination.port' values: '5432' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"WhenDestinationPortNot",
       P("a", "action: ALLOW rules { when { key: 'destination.port' not_values: '5432' } }"),
       Conn{}, Verdict::kDeny, ""},
      {"WhenDestinationIp",
       P("a", "action: ALLOW rules { when { key: 'destination.ip' values: '10.2.0.0/24' } }"),
       Conn{}, Verdict::kAllow, "a"},
      {"WhenAndedWithFrom",
       P("a",
         "action: ALLOW rules { from { namespaces: 'front' } "
         "when { key: 'destination.ip' values: '10.3.0.0/24' } }"),
       Conn{}, Verdict::kDeny, ""},
      {"DenyBeatsAllow",
       P("a", "action: ALLOW rules {}") + P("d", "action: DENY rules { to { ports: 5432 } }"),
       Conn{}, Verdict::kDeny, "d"},
      {"DenyNotMatchingThenAllow",
       P("a", "action: ALLOW rules {}") + P("d", "action: DENY rules { to { ports: 80 } }"), Conn{},
       Verdict::kAllow, "a"},
      {"AuditNeverAllows", P("u", "action: AUDIT rules {}") + P("a", "action: ALLOW"), Conn{},
       Verdict::kDeny, ""},
      {"AuditIsNotAnAllowPolicy", P("u", "action: AUDIT"), Conn{}, Verdict::kAllow, ""},
      {"AuditNeverDenies", P("u", "action: AUDIT rules {}"), Conn{}, Verdict::kAllow, ""},
      // L7: unknown at L4.
      {"DenyWithL7MatchingL4NeedsL7",
       P("d", "action: DENY rules { to { ports: 5432 methods: 'POST' } }"), Conn{},
       Verdict::kNeedsL7, "d"},
      {"DenyWithL7NotMatchingL4Allows",
       P("d", "action: DENY rules { to { ports: 80 methods: 'POST' } }"), Conn{}, Verdict::kAllow,
       ""},
      {"DenyWithL7WhenDeniedAnywayDenies",
       P("d", "action: DENY rules { to { paths: '/admin' } }") +
           P("a", "action: ALLOW rules { to { ports: 80 } }"),
       Conn{}, Verdict::kDeny, ""},
      {"DenyWithL7AndAllowMatchNeedsL7",
       P("d", "action: DENY rules { to { hosts: 'x' } }") + P("a", "action: ALLOW rules {}"),
       Conn{}, Verdict::kNeedsL7, "d"},
      {"DenyL4MatchBeatsDenyUnknown",
       P("d1", "action: DENY rules { to { not_methods: 'GET' } }") +
           P("d2", "action: DENY rules { from { namespaces: 'front' } }"),
       Conn{}, Verdict::kDeny, "d2"},
      {"DenyRequestConditionNeedsL7",
       P("d", "action: DENY rules { when { key: 'request.headers[x-tenant]' values: 'a' } }"),
       Conn{}, Verdict::kNeedsL7, "d"},
      {"AllowOnlyL7NeedsL7", P("a", "action: ALLOW rules { to { paths: '/api' } }"), Conn{},
       Verdict::kNeedsL7, "a"},
      {"AllowL7WithFailingL4Denies",
       P("a", "action: ALLOW rules { from { namespaces: 'x' } to { paths: '/api' } }"), Conn{},
       Verdict::kDeny, ""},
      {"AllowL4BeatsAllowL7",
       P("a7", "action: ALLOW rules { to { methods: 'GET' } }") +
           P("a4", "action: ALLOW rules { from { namespaces: 'front' } }"),
       Conn{}, Verdict::kAllow, "a4"},
      {"AllowNotPathsIsL7", P("a", "action: ALLOW rules { to { not_paths: '/x' } }"), Conn{},
       Verdict::kNeedsL7, "a"},
      {"AllowWhenRequestMethodIsL7",
       P("a", "action: ALLOW rules { when { key: 'request.method' values: 'GET' } }"), Conn{},
       Verdict::kNeedsL7, "a"},
      {"MixedOperationsPureL4PortAllows",
       P("a", "action: ALLOW rules { to { ports: 5432 } to { ports: 80 methods: 'GET' } }"), Conn{},
       Verdict::kAllow, "a"},
      {"MixedOperationsL7PortNeedsL7",
       P("a", "action: ALLOW rules { to { ports: 5432 } to { ports: 80 methods: 'GET' } }"),
       Port(80), Verdict::kNeedsL7, "a"},
      {"MixedOperationsOtherPortDenies",
       P("a", "action: ALLOW rules { to { ports: 5432 } to { ports: 80 methods: 'GET' } }"),
       Port(81), Verdict::kDeny, ""},
      {"L7RuleOrL4RuleMatches",
       P("a", "action: ALLOW rules { to { methods: 'GET' } } rules { to { ports: 5432 } }"), Conn{},
       Verdict::kAllow, "a"},
      {"L7AndedWithFailingL4IsNo",
       P("d",
         "action: DENY rules { to { methods: 'GET' } when { key: 'source.namespace' "
         "values: 'x' } }"),
       Conn{}, Verdict::kAllow, ""},
  };
  return *cases;
}

// gtest would print the raw bytes of a Case otherwise.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class EvaluatorTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(EvaluatorTableTest, Decides) {
  const Case& c = GetParam();
  ClusterConfig config;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(c.policies, &config)) << c.policies;
  auto evaluator = AuthorizationEvaluator::Create(config);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  ConnectionAttributes attrs;
  attrs.source_principal = c.conn.principal;
  attrs.source_namespace = c.conn.ns;
  attrs.source_ip = *IpAddress::Parse(c.conn.src_ip);
  attrs.destination = {c.conn.dst_ns, c.conn.labels};
  attrs.destination_ip = *IpAddress::Parse(c.conn.dst_ip);
  attrs.destination_port = c.conn.port;
  Decision d = (*evaluator)->Evaluate(attrs);
  EXPECT_EQ(VerdictName(d.verdict), std::string(VerdictName(c.want))) << d.reason;
  EXPECT_EQ(d.policy_name, c.want_policy) << d.reason;
  EXPECT_EQ(d.policy_index >= 0, !c.want_policy.empty());
}

INSTANTIATE_TEST_SUITE_P(Semantics, EvaluatorTableTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(EvaluatorCreateTest, UnreadableWhenValueNamesPolicyAndField) {
  ClusterConfig config;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      P("bad", "rules { when { key: 'destination.port' values: 'http' } }"), &config));
  auto evaluator = AuthorizationEvaluator::Create(config);
  ASSERT_FALSE(evaluator.ok());
  EXPECT_NE(evaluator.status().message().find("back/bad"), std::string::npos) << evaluator.status();
  EXPECT_NE(evaluator.status().message().find("rules[0].when[0].values[0]"), std::string::npos)
      << evaluator.status();
}

TEST(EvaluatorPortsTest, MentionedPortsOfApplicablePoliciesOnly) {
  ClusterConfig config;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      P("a",
        "rules { to { ports: 80 not_ports: 81 } when { key: 'destination.port' "
        "values: '82' } }") +
          P("b",
            "selector { match_labels { key: 'app' value: 'web' } } rules { to { ports: 90 } }") +
          P("u", "action: AUDIT rules { to { ports: 91 } }"),
      &config));
  auto evaluator = AuthorizationEvaluator::Create(config);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  DestinationWorkload db{"back", {{"app", "db"}}};
  EXPECT_EQ((*evaluator)->MentionedPorts(db), (std::vector<uint16_t>{80, 81, 82}));
  EXPECT_EQ((*evaluator)->ApplicablePolicies(db), (std::vector<int>{0}));
}

TEST(IpPrefixTest, ContainsByFamilyAndLength) {
  auto v4 = *IpPrefix::Parse("192.168.4.0/22");
  EXPECT_TRUE(v4.Contains(*IpAddress::Parse("192.168.7.255")));
  EXPECT_FALSE(v4.Contains(*IpAddress::Parse("192.168.8.0")));
  EXPECT_FALSE(v4.Contains(*IpAddress::Parse("::ffff:192.168.4.1")));
  auto any6 = *IpPrefix::Parse("::/0");
  EXPECT_TRUE(any6.Contains(*IpAddress::Parse("fd00::1")));
  EXPECT_FALSE(any6.Contains(*IpAddress::Parse("10.0.0.1")));
  EXPECT_FALSE(IpPrefix::Parse("10.0.0.0/33").ok());
  EXPECT_FALSE(IpPrefix::Parse("nope").ok());
}

}  // namespace
}  // namespace weft::authz
