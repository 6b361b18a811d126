// Table of bad documents: each must be rejected with an error naming the exact
// field path; and good documents must load and round-trip.
#include <string>
#include <vector>

#include "common/config/config_loader.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace weft::config {
namespace {

using ::testing::HasSubstr;

// A small valid cluster that most cases add one bad object to.
constexpr char kBase[] = R"(
namespaces:
  - name: demo
    labels: {weft.dev/dataplane-mode: ambient}
workloads:
  - {uid: w1, name: client, namespace: demo, service_account: client, addresses: ["10.244.0.2"], labels: {app: client}}
  - {uid: w2, name: server, namespace: demo, service_account: server, addresses: ["10.244.1.2"], labels: {app: server}}
services:
  - {name: server, namespace: demo, vips: ["10.96.0.1"], ports: [{port: 80, target_port: 8080}], selector: {app: server}}
)";

struct BadCase {
  const char* name;
  bool on_base;  // appended to kBase (else the document stands alone)
  const char* yaml;
  const char* path;
  const char* message;  // a substring of the error message
};

const BadCase kBadCases[] = {
    {"unknown_top_level_field", true, "servces: []\n", "servces", "unknown field"},
    {"unknown_nested_field", false,
     "namespaces: [{name: demo}]\nworkloads:\n  - {uid: a, name: a, namespace: demo, "
     "serviceAcount: x}\n",
     "workloads[0].serviceAcount", "unknown field of Workload"},
    {"list_expected", false, "namespaces: {name: demo}\n", "namespaces", "expected a list"},
    {"mapping_expected", false, "namespaces: [demo]\n", "namespaces[0]", "expected a mapping"},
    {"unknown_enum_value", false,
     "namespaces: [{name: demo}]\nworkloads: [{uid: a, name: a, namespace: demo, protocol: "
     "HTTP3}]\n",
     "workloads[0].protocol", "expected one of HBONE or TCP"},
    {"negative_port", true,
     "traffic_policies: [{name: t, namespace: demo, target: server, connection_pool: "
     "{max_connections: -1}}]\n",
     "traffic_policies[0].connection_pool.max_connections", "non-negative integer"},
    {"port_out_of_range", false,
     "namespaces: [{name: demo}]\nservices: [{name: s, namespace: demo, ports: [{port: "
     "70000}]}]\n",
     "services[0].ports[0].port", "from 1 to 65535"},
    {"port_not_a_number", false,
     "namespaces: [{name: demo}]\nservices: [{name: s, namespace: demo, ports: [{port: "
     "http}]}]\n",
     "services[0].ports[0].port", "got \"http\""},
    {"bad_ip_address", false,
     "namespaces: [{name: demo}]\nworkloads: [{uid: a, name: a, namespace: demo, addresses: "
     "[10.0.0.300]}]\n",
     "workloads[0].addresses[0]", "IPv4 or IPv6 address"},
    {"bad_cidr_prefix", true, "mesh: {excluded_cidrs: [10.0.0.0/33]}\n", "mesh.excluded_cidrs[0]",
     "prefix length from 0 to 32"},
    {"cidr_host_bits", true,
     "authorization_policies: [{name: p, namespace: demo, rules: [{from: [{ip_blocks: "
     "[10.0.0.1/8]}]}]}]\n",
     "authorization_policies[0].rules[0].from[0].ip_blocks[0]", "no address bits set"},
    {"excluded_port_zero", true, "mesh: {excluded_ports: [0]}\n", "mesh.excluded_ports[0]",
     "from 1 to 65535"},
    {"duplicate_workload_uid", false,
     "namespaces: [{name: demo}]\nworkloads:\n  - {uid: a, name: a, namespace: demo}\n  - {uid: a, "
     "name: b, namespace: demo}\n",
     "workloads[1].uid", "unique id"},
    {"duplicate_service_name", true,
     "", "", ""},  // document built in DocumentFor
    {"duplicate_namespace", false, "namespaces: [{name: demo}, {name: demo}]\n",
     "namespaces[1].name", "declared more than once"},
    {"undeclared_namespace", false, "namespaces: [{name: demo}]\nworkloads: [{uid: a, name: a, "
                                    "namespace: other}]\n",
     "workloads[0].namespace", "declared under namespaces"},
    {"bad_namespace_name", false, "namespaces: [{name: Demo_1}]\n", "namespaces[0].name",
     "lowercase letters"},
    {"endpoint_names_nothing", true,
     "", "", ""},  // document built in DocumentFor
    {"route_backend_names_nothing", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{backend_refs: [{name: nosuch}]}]}]\n",
     "http_routes[0].rules[0].backend_refs[0].name", "\"demo/nosuch\" does not exist"},
    {"route_parent_names_nothing", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: ghost}], rules: "
     "[{backend_refs: [{name: server}]}]}]\n",
     "http_routes[0].parent_refs[0].name", "does not exist"},
    {"route_backend_port_not_on_service", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{backend_refs: [{name: server, port: 81}]}]}]\n",
     "http_routes[0].rules[0].backend_refs[0].port", "expected a port of service"},
    {"policy_selector_names_nothing", true,
     "authorization_policies: [{name: p, namespace: demo, selector: {match_labels: {app: "
     "nosuch}}}]\n",
     "authorization_policies[0].selector.match_labels", "matches a workload"},
    {"principal_not_spiffe", true,
     "authorization_policies: [{name: p, namespace: demo, rules: [{from: [{principals: "
     "[cluster.local/ns/demo/sa/client]}]}]}]\n",
     "authorization_policies[0].rules[0].from[0].principals[0]", "expected a SPIFFE ID"},
    {"principal_missing_sa", true,
     "authorization_policies: [{name: p, namespace: demo, rules: [{from: [{principals: "
     "[\"spiffe://cluster.local/ns/demo\"]}]}]}]\n",
     "authorization_policies[0].rules[0].from[0].principals[0]", "expected a SPIFFE ID"},
    {"weights_do_not_add_up", true,
     "", "", ""},                             // document built in DocumentFor
    {"weight_over_100", true, "", "", ""},  // document built in DocumentFor
    {"duration_without_unit", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{backend_refs: [{name: server}], timeouts: {request: 10}}]}]\n",
     "http_routes[0].rules[0].timeouts.request", "duration in seconds"},
    {"invalid_regex", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{matches: [{path: {type: REGEX, value: \"([\"}}], backend_refs: [{name: server}]}]}]\n",
     "http_routes[0].rules[0].matches[0].path.value", "RE2 regular expression"},
    {"prefix_path_without_slash", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{matches: [{path: {type: PREFIX, value: api}}], backend_refs: [{name: server}]}]}]\n",
     "http_routes[0].rules[0].matches[0].path.value", "starting with '/'"},
    {"redirect_status", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{filters: [{request_redirect: {status_code: 200}}]}]}]\n",
     "http_routes[0].rules[0].filters[0].request_redirect.status_code", "301, 302"},
    {"oneof_twice", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{filters: [{url_rewrite: {replace_full_path: /a, replace_prefix_match: /b}}], "
     "backend_refs: [{name: server}]}]}]\n",
     "http_routes[0].rules[0].filters[0].url_rewrite.replace_prefix_match", "only one of"},
    {"bad_label_key", false, "namespaces: [{name: demo, labels: {\"bad key!\": x}}]\n",
     "namespaces[0].labels[bad key!]", "label key"},
    {"bad_label_value", false, "namespaces: [{name: demo, labels: {app: \"-x-\"}}]\n",
     "namespaces[0].labels[app]", "starts and ends"},
    {"duplicate_address", false,
     "namespaces: [{name: demo}]\nworkloads:\n  - {uid: a, name: a, namespace: demo, addresses: "
     "[10.1.0.1]}\n  - {uid: b, name: b, namespace: demo, addresses: [10.1.0.1]}\n",
     "workloads[1].addresses[0]", "belongs to workload \"a\""},
    {"traffic_policy_target_names_nothing", true,
     "traffic_policies: [{name: t, namespace: demo, target: ghost}]\n",
     "traffic_policies[0].target", "does not exist"},
    {"rate_limit_zero", true,
     "traffic_policies: [{name: t, namespace: demo, target: server, rate_limits: [{key: SOURCE, "
     "requests_per_second: 0}]}]\n",
     "traffic_policies[0].rate_limits[0].requests_per_second", "greater than 0"},
    {"rate_limit_header_missing", true,
     "traffic_policies: [{name: t, namespace: demo, target: server, rate_limits: [{key: HEADER, "
     "requests_per_second: 5}]}]\n",
     "traffic_policies[0].rate_limits[0].header", "header name"},
    {"abort_status", true,
     "traffic_policies: [{name: t, namespace: demo, target: server, fault: {abort: {percentage: "
     "10, http_status: 99}}}]\n",
     "traffic_policies[0].fault.abort.http_status", "from 200 to 599"},
    {"fault_percentage", true,
     "traffic_policies: [{name: t, namespace: demo, target: server, fault: {delay: {percentage: "
     "150, fixed_delay: 1s}}}]\n",
     "traffic_policies[0].fault.delay.percentage", "from 0 to 100"},
    {"two_namespace_wide_peer_auth", true,
     "peer_authentications: [{name: a, namespace: demo, mode: STRICT}, {name: b, namespace: "
     "demo, mode: PERMISSIVE}]\n",
     "peer_authentications[1].selector", "one namespace-wide"},
    {"unknown_condition_key", true,
     "authorization_policies: [{name: p, namespace: demo, rules: [{when: [{key: source.country, "
     "values: [fr]}]}]}]\n",
     "authorization_policies[0].rules[0].when[0].key", "condition key"},
    {"lowercase_method", true,
     "authorization_policies: [{name: p, namespace: demo, rules: [{to: [{methods: [get]}]}]}]\n",
     "authorization_policies[0].rules[0].to[0].methods[0]", "upper-case HTTP method"},
    {"policy_port_zero", true,
     "authorization_policies: [{name: p, namespace: demo, rules: [{to: [{ports: [0]}]}]}]\n",
     "authorization_policies[0].rules[0].to[0].ports[0]", "from 1 to 65535"},
    {"document_is_a_list", false, "- a\n- b\n", "", "expected a mapping (ClusterConfig)"},
    {"yaml_syntax_error", false, "namespaces: [{name: demo}\n", "", "not valid YAML or JSON"},
    {"service_without_ports", false, "namespaces: [{name: demo}]\nservices: [{name: s, namespace: "
                                     "demo}]\n",
     "services[0].ports", "at least one port"},
    {"workload_without_name", false,
     "namespaces: [{name: demo}]\nworkloads: [{uid: a, namespace: demo}]\n", "workloads[0].name",
     "expected a name"},
    {"field_twice_json", false, "{\"namespaces\": [], \"namespaces\": []}\n", "namespaces",
     "more than once"},
    {"several_documents", false, "namespaces: []\n---\nnamespaces: []\n", "",
     "expected one document"},
    {"route_without_parent", true,
     "http_routes: [{name: r, namespace: demo, rules: [{backend_refs: [{name: server}]}]}]\n",
     "http_routes[0].parent_refs", "at least one parent"},
    {"backend_timeout_longer_than_request", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{backend_refs: [{name: server}], timeouts: {request: 1s, backend_request: 2s}}]}]\n",
     "http_routes[0].rules[0].timeouts.backend_request", "no longer than"},
    {"unknown_retry_on", true,
     "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
     "[{backend_refs: [{name: server}], retry: {attempts: 2, retry_on: [sometimes]}}]}]\n",
     "http_routes[0].rules[0].retry.retry_on[0]", "expected one of 5xx"},
    {"duplicate_vip", true, "", "", ""},  // document built in DocumentFor
};

// Cases whose document is easier to write in full than as an addition to kBase.
std::string DocumentFor(const BadCase& c, std::string* path, std::string* message) {
  std::string name = c.name;
  *path = c.path;
  *message = c.message;
  if (name == "duplicate_service_name") {
    *path = "services[1].name";
    *message = "defined more than once";
    return "namespaces: [{name: demo}]\nservices:\n  - {name: s, namespace: demo, ports: [{port: "
           "80}]}\n  - {name: s, namespace: demo, ports: [{port: 81}]}\n";
  }
  if (name == "endpoint_names_nothing") {
    *path = "services[0].endpoints[0].workload_uid";
    *message = "uid of a workload, got \"ghost\"";
    return "namespaces: [{name: demo}]\nservices: [{name: s, namespace: demo, ports: [{port: "
           "80}], endpoints: [{workload_uid: ghost}]}]\n";
  }
  if (name == "weights_do_not_add_up" || name == "weight_over_100") {
    bool over = name == "weight_over_100";
    *path = over ? "http_routes[0].rules[0].backend_refs[0].weight"
                 : "http_routes[0].rules[0].backend_refs";
    *message = over ? "percentage up to 100" : "add up to 100, got 80";
    return std::string(kBase) +
           "  - {name: other, namespace: demo, vips: [\"10.96.0.2\"], ports: [{port: 80}]}\n"
           "http_routes: [{name: r, namespace: demo, parent_refs: [{name: server}], rules: "
           "[{backend_refs: [{name: server, weight: " +
           (over ? "120" : "70") + "}, {name: other, weight: " + (over ? "0" : "10") + "}]}]}]\n";
  }
  if (name == "duplicate_vip") {
    *path = "services[1].vips[0]";
    *message = "belongs to service \"demo/server\"";
    return std::string(kBase) +
           "  - {name: other, namespace: demo, vips: [\"10.96.0.1\"], ports: [{port: 80}]}\n";
  }
  return c.on_base ? std::string(kBase) + c.yaml : std::string(c.yaml);
}

// Names the case in test output instead of dumping its bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadDocumentTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadDocumentTest, RejectedWithTheFieldPath) {
  std::string path, message;
  std::string doc = DocumentFor(GetParam(), &path, &message);
  LoadedConfig loaded = LoadClusterConfig(doc);
  ASSERT_FALSE(loaded.ok()) << "accepted:\n" << doc;
  std::string all = FormatErrors("doc.yaml", loaded.errors);
  bool found = false;
  for (const FieldError& e : loaded.errors) {
    if (e.path == path && e.message.find(message) != std::string::npos) found = true;
  }
  EXPECT_TRUE(found) << "wanted path \"" << path << "\" with \"" << message << "\"; got:\n"
                     << all;
  // Every error renders as "DOC: path: message".
  EXPECT_THAT(all, HasSubstr("doc.yaml: " + (path.empty() ? std::string("(document)") : path) +
                             ": "));
}

INSTANTIATE_TEST_SUITE_P(Table, BadDocumentTest, ::testing::ValuesIn(kBadCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(BadDocumentTable, HasAtLeastThirtyCases) {
  EXPECT_GE(std::size(kBadCases), 30u);
}

TEST(ValidationErrors, CarryLineNumbers) {
  std::string doc = std::string(kBase) +
                    "authorization_policies:\n"
                    "  - name: p\n"
                    "    namespace: demo\n"
                    "    rules:\n"
                    "      - from:\n"
                    "          - principals: [not-a-spiffe-id]\n";
  LoadedConfig loaded = LoadClusterConfig(doc);
  ASSERT_EQ(loaded.errors.size(), 1u) << FormatErrors("d", loaded.errors);
  EXPECT_EQ(loaded.errors[0].line, 15);
  EXPECT_THAT(FormatFieldError("cluster.yaml", loaded.errors[0]),
              HasSubstr("cluster.yaml: authorization_policies[0].rules[0].from[0].principals[0]: "
                        "expected a SPIFFE ID"));
  EXPECT_THAT(FormatFieldError("cluster.yaml", loaded.errors[0]), HasSubstr("(line 15)"));
}

TEST(ValidationErrors, NonUtf8TextIsRefusedWithItsPath) {
  LoadedConfig loaded = LoadClusterConfig("namespaces: [{name: demo, labels: {app: ab\xff}}]\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.errors[0].path, "namespaces[0].labels[app]");
  EXPECT_EQ(loaded.errors[0].message, "expected UTF-8 text");
}

TEST(ValidationErrors, RenderOnOneLineWhateverTheDocumentSaid) {
  FieldError e{"workloads[0].name", "expected a name, got \"a\nb\x01\"", 3};
  EXPECT_EQ(FormatFieldError("doc.yaml", e),
            "doc.yaml: workloads[0].name: expected a name, got \"a\\nb\\x01\" (line 3)");
}

TEST(ValidationErrors, ReportsEveryErrorNotJustTheFirst) {
  LoadedConfig loaded = LoadClusterConfig(
      "namespaces: [{name: demo}]\nworkloads:\n  - {uid: a, name: a, namespace: demo, addresses: "
      "[bad1]}\n  - {uid: b, name: b, namespace: demo, addresses: [bad2]}\n");
  EXPECT_EQ(loaded.errors.size(), 2u) << FormatErrors("d", loaded.errors);
}

std::string TestData(const std::string& name) {
  return std::string(WEFT_SOURCE_DIR) + "/tests/unit/config/testdata/" + name;
}

TEST(GoodDocument, FullExampleLoads) {
  LoadedConfig loaded = LoadClusterConfigFile(TestData("cluster.yaml"));
  ASSERT_TRUE(loaded.ok()) << FormatErrors("cluster.yaml", loaded.errors);
  EXPECT_EQ(loaded.config.workloads_size(), 4);
  EXPECT_EQ(loaded.config.workloads(1).service_account(), "cart");  // camelCase key
  EXPECT_EQ(loaded.config.http_routes(0).rules(0).timeouts().backend_request().nanos(),
            500000000);
  EXPECT_EQ(loaded.config.services(0).load_balancing(), v1::Service::LEAST_REQUEST);
}

TEST(GoodDocument, RoundTripsThroughJson) {
  LoadedConfig first = LoadClusterConfigFile(TestData("cluster.yaml"));
  ASSERT_TRUE(first.ok());
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(first.config, &json, print).ok());
  LoadedConfig second = LoadClusterConfig(json);
  ASSERT_TRUE(second.ok()) << FormatErrors("roundtrip.json", second.errors) << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first.config, second.config));
  // And the camelCase form the JSON mapping prints by default.
  print.preserve_proto_field_names = false;
  json.clear();  // MessageToJsonString appends
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(first.config, &json, print).ok());
  LoadedConfig third = LoadClusterConfig(json);
  ASSERT_TRUE(third.ok()) << FormatErrors("camel.json", third.errors);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first.config, third.config));
}

TEST(GoodDocument, EmptyDocumentIsAnEmptyConfig) {
  LoadedConfig loaded = LoadClusterConfig("");
  EXPECT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.config.ByteSizeLong(), 0u);
}

}  // namespace
}  // namespace weft::config
