// Differential test of the in-kernel L4 policy: random policy sets and connections,
// compiled by PolicyCompiler into the real maps, looked up by bpf/lib/policy_lookup.h
// (through the harness program and BPF_PROG_TEST_RUN), compared with the reference
// evaluator. Reproduce a failure with WEFT_POLICY_SEED=<seed printed>.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/bpf/policy/policy_compiler.h"
#include "agent/bpf/policy/policy_map_writer.h"
#include "gtest/gtest.h"
#include "policy_harness.skel.h"
#include "tests/bpf/policy/policy_harness.h"

namespace weft::bpf::policy {
namespace {

using authz::AuthorizationEvaluator;
using authz::ConnectionAttributes;
using authz::Decision;
using authz::IpAddress;
using authz::Verdict;
using weft::config::v1::AuthorizationPolicy;
using weft::config::v1::ClusterConfig;
using weft::config::v1::Workload;

constexpr int kPolicySets = 3000;
constexpr int kConnectionsPerSet = 30;
constexpr uint16_t kPorts[] = {80, 443, 5432, 8080, 9000};

struct SkeletonDeleter {
  void operator()(policy_harness* s) const { policy_harness::destroy(s); }
};

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int>(v.size()) - 1)];
  }
  uint16_t Port() {
    return Chance(0.75) ? kPorts[Int(0, 4)] : static_cast<uint16_t>(Int(1, 65535));
  }

 private:
  std::mt19937_64 rng_;
};

const std::vector<std::string> kNamespaces = {"ns0", "ns1", "ns2", "ns3"};  // ns3 not ambient
const std::vector<std::string> kAccounts = {"sa0", "sa1", "sa2"};

std::string V4(int ns, int i) { return absl::StrCat("10.", ns, ".", i / 200, ".", 1 + i % 200); }
std::string V6(int ns, int i) { return absl::StrCat("fd00:", ns, "::", 1 + i); }

// A random policy set over random workloads; `l7` allows L7 fields.
ClusterConfig RandomConfig(Gen& g, bool l7) {
  ClusterConfig c;
  for (int n = 0; n < 4; ++n) {
    auto* ns = c.add_namespaces();
    ns->set_name(kNamespaces[n]);
    if (n < 3) (*ns->mutable_labels())["weft.dev/dataplane-mode"] = "ambient";
  }
  const int workloads = g.Int(4, 12);
  for (int i = 0; i < workloads; ++i) {
    Workload* w = c.add_workloads();
    const int n = g.Chance(0.1) ? 3 : g.Int(0, 2);
    w->set_uid(absl::StrCat("uid-", i));
    w->set_name(absl::StrCat("w", i));
    w->set_namespace_(kNamespaces[n]);
    w->set_service_account(g.Pick(kAccounts));
    w->add_addresses(V4(n, i));
    if (g.Chance(0.5)) w->add_addresses(V6(n, i));
    (*w->mutable_labels())["app"] = g.Pick(std::vector<std::string>{"a", "b", "c"});
    if (g.Chance(0.5)) (*w->mutable_labels())["tier"] = g.Chance(0.5) ? "x" : "y";
    if (g.Chance(0.08)) w->set_protocol(Workload::TCP);
    if (g.Chance(0.08)) w->set_protocol(Workload::HBONE);
    if (g.Chance(0.08)) (*w->mutable_labels())["weft.dev/dataplane-mode"] = "none";
  }
  auto principal = [&] {
    switch (g.Int(0, 5)) {
      case 0:
        return std::string("*");
      case 1:
        return absl::StrCat("spiffe://cluster.local/ns/*/sa/", g.Pick(kAccounts));
      case 2:
        return absl::StrCat("spiffe://cluster.local/ns/", g.Pick(kNamespaces), "/sa/*");
      case 3:
        return absl::StrCat("spiffe://other.td/ns/", g.Pick(kNamespaces), "/sa/",
                            g.Pick(kAccounts));
      default:
        return absl::StrCat("spiffe://cluster.local/ns/", g.Pick(kNamespaces), "/sa/",
                            g.Pick(kAccounts));
    }
  };
  auto ns_value = [&] { return g.Chance(0.15) ? std::string("*") : g.Pick(kNamespaces); };
  auto block = [&] {
    const int n = g.Int(0, 3), i = g.Int(0, workloads - 1);
    switch (g.Int(0, 6)) {
      case 0:
        return std::string("10.0.0.0/8");
      case 1:
        return absl::StrCat("10.", n, ".0.0/16");
      case 2:
        return V4(n, i);
      case 3:
        return absl::StrCat(V4(n, i), "/32");
      case 4:
        return absl::StrCat("fd00:", n, "::/64");
      case 5:
        return V6(n, i);
      default:
        return std::string("::/0");
    }
  };
  const int policies = g.Int(0, g.Chance(0.1) ? 16 : 6);
  for (int p = 0; p < policies; ++p) {
    AuthorizationPolicy* ap = c.add_authorization_policies();
    ap->set_name(absl::StrCat("p", p));
    ap->set_namespace_(kNamespaces[g.Int(0, 3)]);
    const int action = g.Int(0, 19);
    ap->set_action(action < 8    ? AuthorizationPolicy::ALLOW
                   : action < 15 ? AuthorizationPolicy::DENY
                   : action < 18 ? AuthorizationPolicy::AUDIT
                                 : AuthorizationPolicy::ACTION_UNSPECIFIED);
    if (g.Chance(0.4)) {
      (*ap->mutable_selector()->mutable_match_labels())["app"] =
          g.Pick(std::vector<std::string>{"a", "b", "c"});
    }
    const int rules = g.Chance(0.1) ? 0 : g.Int(1, 3);
    for (int r = 0; r < rules; ++r) {
      auto* rule = ap->add_rules();
      for (int f = g.Int(0, 2); f > 0; --f) {
        auto* s = rule->add_from();
        if (g.Chance(0.35)) s->add_principals(principal());
        if (g.Chance(0.15)) s->add_principals(principal());
        if (g.Chance(0.15)) s->add_not_principals(principal());
        if (g.Chance(0.3)) s->add_namespaces(ns_value());
        if (g.Chance(0.15)) s->add_not_namespaces(ns_value());
        if (g.Chance(0.3)) s->add_ip_blocks(block());
        if (g.Chance(0.15)) s->add_not_ip_blocks(block());
      }
      for (int t = g.Int(0, 2); t > 0; --t) {
        auto* op = rule->add_to();
        if (g.Chance(0.6)) op->add_ports(kPorts[g.Int(0, 4)]);
        if (g.Chance(0.3)) op->add_ports(kPorts[g.Int(0, 4)]);
        if (g.Chance(0.2)) op->add_not_ports(kPorts[g.Int(0, 4)]);
        if (l7 && g.Chance(0.2)) op->add_methods("GET");
        if (l7 && g.Chance(0.1)) op->add_not_paths("/admin");
        if (l7 && g.Chance(0.1)) op->add_hosts("db.example");
      }
      for (int w = g.Int(0, 3) == 0 ? 1 : 0; w > 0; --w) {
        auto* cond = rule->add_when();
        const bool negate = g.Chance(0.3);
        auto add = [&](std::string v) {
          negate ? cond->add_not_values(std::move(v)) : cond->add_values(std::move(v));
        };
        switch (g.Int(0, l7 ? 5 : 4)) {
          case 0:
            cond->set_key("source.ip");
            add(block());
            break;
          case 1:
            cond->set_key("source.namespace");
            add(ns_value());
            break;
          case 2:
            cond->set_key("source.principal");
            add(principal());
            break;
          case 3:
            cond->set_key("destination.port");
            add(absl::StrCat(kPorts[g.Int(0, 4)]));
            break;
          case 4:
            cond->set_key("destination.ip");
            add(block());
            break;
          default:
            cond->set_key("request.headers[x-tenant]");
            add("t1");
        }
      }
    }
  }
  return c;
}

bool IsMesh(const Workload& w) {
  if (w.protocol() == Workload::TCP) return false;
  if (w.protocol() == Workload::HBONE) return true;
  auto it = w.labels().find("weft.dev/dataplane-mode");
  if (it != w.labels().end() && it->second == "none") return false;
  return w.namespace_() != "ns3";
}

class PolicyDifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skel_.reset(policy_harness::open_and_load());
    ASSERT_NE(skel_, nullptr) << "loading the policy harness failed: " << std::strerror(errno);
    auto writer = PolicyMapWriter::Create(PolicyMapsOf(skel_.get()));
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
  }

  policy_harness_ctx Run(uint32_t src, const IpAddress& dst, uint16_t port) {
    policy_harness_ctx ctx{};
    ctx.src_workload_id = src;
    ctx.family = dst.is_v4() ? 4 : 6;
    if (dst.is_v4()) {
      ctx.dst_addr[2] = htonl(0xffff);
      std::memcpy(&ctx.dst_addr[3], dst.bytes.data(), 4);
    } else {
      std::memcpy(ctx.dst_addr, dst.bytes.data(), 16);
    }
    ctx.dst_port = htons(port);
    ctx.verdict = 0xff;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
    int rc = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.policy_verdict), &opts);
    EXPECT_EQ(rc, 0) << std::strerror(errno);
    return ctx;
  }

  std::unique_ptr<policy_harness, SkeletonDeleter> skel_;
  std::unique_ptr<PolicyMapWriter> writer_;
};

TEST_F(PolicyDifferentialTest, KernelVerdictEqualsReference) {
  const char* env = std::getenv("WEFT_POLICY_SEED");
  const uint64_t seed = env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 10) : 20261127;
  SCOPED_TRACE(absl::StrCat("WEFT_POLICY_SEED=", seed));
  Gen g(seed);
  const auto start = std::chrono::steady_clock::now();
  int cases = 0, compared = 0, deferred_tight = 0, deferred_l4_only = 0, cases_l4_only = 0,
      unknown = 0, needs_l7 = 0;
  std::map<int, int> kernel_verdicts;
  for (int set = 0; set < kPolicySets && !HasFailure(); ++set) {
    const bool l7 = set % 2 == 1;
    ClusterConfig config = RandomConfig(g, l7);
    auto evaluator = AuthorizationEvaluator::Create(config);
    ASSERT_TRUE(evaluator.ok()) << evaluator.status();
    // Up to three local pods, ids random so nothing depends on them being small.
    std::vector<SourceWorkload> sources;
    std::vector<const Workload*> source_workloads;
    for (const Workload& w : config.workloads()) {
      if (sources.size() == 3 || !g.Chance(0.5)) continue;
      sources.push_back({static_cast<uint32_t>(g.Int(1, 1 << 30)),
                         w.namespace_(),
                         w.service_account(),
                         {w.addresses().begin(), w.addresses().end()}});
      source_workloads.push_back(&w);
    }
    if (sources.empty()) continue;
    auto compiler = PolicyCompiler::Create(config);
    ASSERT_TRUE(compiler.ok()) << compiler.status();
    // Every fifth set gets maps far too small: what does not fit must be DEFER.
    const bool tight = set % 5 == 4;
    PolicyCapacity capacity;
    if (tight)
      capacity = {static_cast<size_t>(g.Int(0, 8)), static_cast<size_t>(g.Int(0, 4)),
                  static_cast<size_t>(g.Int(0, 12))};
    CompiledPolicyMaps compiled = (*compiler)->Compile(sources, capacity);
    ASSERT_LE(compiled.dst_v4.size(), capacity.dst_v4);
    ASSERT_LE(compiled.dst_v6.size(), capacity.dst_v6);
    ASSERT_LE(compiled.verdicts.size(), capacity.verdicts);
    auto applied = writer_->Apply(compiled);
    ASSERT_TRUE(applied.ok()) << applied.status();

    for (int k = 0; k < kConnectionsPerSet; ++k) {
      const int si = g.Int(0, static_cast<int>(sources.size()) - 1);
      const Workload& src = *source_workloads[si];
      const IpAddress src_ip = *IpAddress::Parse(src.addresses(g.Int(0, src.addresses_size() - 1)));
      // The destination: a workload address of the source's chosen family, or outside.
      const Workload* dst = nullptr;
      IpAddress dst_ip;
      for (int attempt = 0; attempt < 4 && dst == nullptr && g.Chance(0.9); ++attempt) {
        const Workload& w = config.workloads(g.Int(0, config.workloads_size() - 1));
        for (const std::string& a : w.addresses()) {
          IpAddress ip = *IpAddress::Parse(a);
          if (ip.family != src_ip.family) continue;
          dst = &w;
          dst_ip = ip;
        }
      }
      if (dst == nullptr) {
        dst_ip = *IpAddress::Parse(src_ip.is_v4()
                                       ? absl::StrCat("192.168.", g.Int(0, 255), ".", g.Int(1, 254))
                                       : absl::StrCat("2001:db8::", g.Int(1, 9999)));
      }
      const uint16_t port = g.Port();
      const policy_harness_ctx got = Run(sources[si].workload_id, dst_ip, port);
      ++cases;
      ++kernel_verdicts[got.verdict];
      const std::string what =
          absl::StrCat("set ", set, " case ", k, ": ", src.uid(), " (", src_ip.ToString(), ") -> ",
                       dst ? dst->uid() : "outside", " ", dst_ip.ToString(), ":", port);
      if (dst == nullptr || !IsMesh(*dst)) {
        ++unknown;
        EXPECT_EQ(got.verdict, WEFT_POLICY_DEFER) << what;
        continue;
      }
      ConnectionAttributes c;
      c.source_principal = absl::StrCat("spiffe://cluster.local/ns/", src.namespace_(), "/sa/",
                                        src.service_account());
      c.source_namespace = src.namespace_();
      c.source_ip = src_ip;
      c.destination = {dst->namespace_(), {dst->labels().begin(), dst->labels().end()}};
      c.destination_ip = dst_ip;
      c.destination_port = port;
      const Decision want = (*evaluator)->Evaluate(c);
      ++compared;
      if (!l7 && !tight) ++cases_l4_only;
      if (want.verdict == Verdict::kNeedsL7) {
        ++needs_l7;
        EXPECT_EQ(got.verdict, WEFT_POLICY_DEFER) << what << ": reference NEEDS_L7 " << want.reason;
        continue;
      }
      if (got.verdict == WEFT_POLICY_DEFER) {
        const uint32_t dst_id = compiled.destination_ids.at(dst_ip.ToString());
        EXPECT_TRUE(compiled.deferred.contains({sources[si].workload_id, dst_id}))
            << what << ": kernel DEFER unexplained, reference " << VerdictName(want.verdict) << " ("
            << want.policy_name << ": " << want.reason << ")";
        if (!l7 && !tight) ++deferred_l4_only;
        if (tight) ++deferred_tight;
        continue;
      }
      const uint32_t want_verdict =
          want.verdict == Verdict::kAllow ? WEFT_POLICY_ALLOW : WEFT_POLICY_DENY;
      EXPECT_EQ(got.verdict, want_verdict)
          << what << ": reference " << VerdictName(want.verdict) << " (" << want.policy_name << ": "
          << want.reason << ")";
      EXPECT_EQ(got.policy_id, static_cast<uint32_t>(want.policy_index + 1)) << what;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "policy differential: %d cases in %.2f s (seed %llu): kernel ALLOW %d DENY %d DEFER %d;"
      " unknown destinations %d, compared %d, reference NEEDS_L7 %d, compiler-deferred pure-L4"
      " %d of %d, deferred because the maps were full %d\n",
      cases, seconds, static_cast<unsigned long long>(seed), kernel_verdicts[WEFT_POLICY_ALLOW],
      kernel_verdicts[WEFT_POLICY_DENY], kernel_verdicts[WEFT_POLICY_DEFER], unknown, compared,
      needs_l7, deferred_l4_only, cases_l4_only, deferred_tight);
  EXPECT_GE(cases, 10000);
  // Pure-L4 policy sets fit the maps: the kernel must decide nearly all of them itself.
  EXPECT_LE(deferred_l4_only * 100, cases_l4_only) << "more than 1% of pure-L4 cases deferred";
  // The generator must exercise every verdict, or the comparison proves little.
  EXPECT_GT(kernel_verdicts[WEFT_POLICY_ALLOW], cases / 10);
  EXPECT_GT(kernel_verdicts[WEFT_POLICY_DENY], cases / 20);
  EXPECT_GT(compared, 10000) << "too few connections reached a mesh destination";
  EXPECT_GT(needs_l7, 100);
  EXPECT_GT(deferred_tight, 100) << "the maps-full fallback was hardly exercised";
  EXPECT_LT(seconds, 30.0);
}

}  // namespace
}  // namespace weft::bpf::policy
