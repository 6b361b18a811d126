// PolicyMapWriter against the real maps of the harness object: it converges the
// maps on a compiled set touching only what changed, refuses maps of another
// layout, and reads back what the kernel holds. Also prints the kernel-side cost
// of one lookup (BPF run-time stats) on a node-sized map set.
#include "agent/bpf/policy/policy_map_writer.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <google/protobuf/text_format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "policy_harness.skel.h"
#include "tests/bpf/policy/policy_harness.h"

namespace weft::bpf::policy {
namespace {

using weft::config::v1::ClusterConfig;

struct SkeletonDeleter {
  void operator()(policy_harness* s) const { policy_harness::destroy(s); }
};

constexpr char kConfig[] = R"pb(
  namespaces {
    name: "front"
    labels { key: "weft.dev/dataplane-mode" value: "ambient" }
  }
  namespaces {
    name: "back"
    labels { key: "weft.dev/dataplane-mode" value: "ambient" }
  }
  workloads {
    uid: "web"
    namespace: "front"
    service_account: "web"
    addresses: "10.0.0.1"
    addresses: "fd00::1"
  }
  workloads {
    uid: "db"
    namespace: "back"
    service_account: "db"
    addresses: "10.0.1.1"
    addresses: "fd00::11"
  }
  workloads { uid: "cache" namespace: "back" service_account: "cache" addresses: "10.0.1.2" }
)pb";

CompiledPolicyMaps Compile(const std::string& extra) {
  ClusterConfig c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kConfig + extra, &c));
  auto compiler = PolicyCompiler::Create(c);
  EXPECT_TRUE(compiler.ok()) << compiler.status();
  return (*compiler)->Compile({{3, "front", "web", {"10.0.0.1", "fd00::1"}}}, PolicyCapacity{});
}

template <typename K, typename V>
std::vector<std::string> Sorted(const std::vector<std::pair<K, V>>& entries) {
  std::vector<std::string> out;
  for (const auto& [k, v] : entries) {
    out.push_back(std::string(reinterpret_cast<const char*>(&k), sizeof(k)) +
                  std::string(reinterpret_cast<const char*>(&v), sizeof(v)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

class PolicyMapWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skel_.reset(policy_harness::open_and_load());
    ASSERT_NE(skel_, nullptr) << "loading the policy harness failed: " << std::strerror(errno);
    auto writer = PolicyMapWriter::Create(PolicyMapsOf(skel_.get()));
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
  }

  void ExpectMapsHold(const CompiledPolicyMaps& want) {
    auto dump = ReadPolicyMaps(PolicyMapsOf(skel_.get()));
    ASSERT_TRUE(dump.ok()) << dump.status();
    EXPECT_EQ(Sorted(dump->dst_v4), Sorted(want.dst_v4));
    EXPECT_EQ(Sorted(dump->dst_v6), Sorted(want.dst_v6));
    EXPECT_EQ(Sorted(dump->verdicts), Sorted(want.verdicts));
  }

  uint32_t Lookup(const char* v4, uint16_t port) {
    policy_harness_ctx ctx{};
    ctx.src_workload_id = 3;
    ctx.family = 4;
    ctx.dst_addr[2] = htonl(0xffff);
    inet_pton(AF_INET, v4, &ctx.dst_addr[3]);
    ctx.dst_port = htons(port);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
    EXPECT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.policy_verdict), &opts), 0)
        << std::strerror(errno);
    return ctx.verdict;
  }

  std::unique_ptr<policy_harness, SkeletonDeleter> skel_;
  std::unique_ptr<PolicyMapWriter> writer_;
};

TEST_F(PolicyMapWriterTest, ConvergesTouchingOnlyWhatChanged) {
  const CompiledPolicyMaps a = Compile(R"pb(
    authorization_policies {
      name: "deny-5432"
      namespace: "back"
      action: DENY
      rules { to { ports: 5432 } }
    }
  )pb");
  auto first = writer_->Apply(a);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->added, a.dst_v4.size() + a.dst_v6.size() + a.verdicts.size());
  EXPECT_EQ(first->deleted + first->updated, 0u);
  ExpectMapsHold(a);
  EXPECT_EQ(Lookup("10.0.1.1", 5432), static_cast<uint32_t>(WEFT_POLICY_DENY));
  EXPECT_EQ(Lookup("10.0.1.1", 80), static_cast<uint32_t>(WEFT_POLICY_ALLOW));

  auto again = writer_->Apply(a);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->added + again->updated + again->deleted, 0u);
  EXPECT_EQ(again->unchanged, first->added);

  // The policy moves to another port: the port entry is replaced, nothing else moves.
  const CompiledPolicyMaps b = Compile(R"pb(
    authorization_policies {
      name: "deny-5432"
      namespace: "back"
      action: DENY
      rules { to { ports: 6379 } }
    }
  )pb");
  auto second = writer_->Apply(b);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->deleted, 3u);  // the 5432 entries of db v4, db v6 and cache
  EXPECT_EQ(second->added, 3u);
  EXPECT_EQ(second->updated, 0u);
  ExpectMapsHold(b);
  EXPECT_EQ(Lookup("10.0.1.1", 5432), static_cast<uint32_t>(WEFT_POLICY_ALLOW));
  EXPECT_EQ(Lookup("10.0.1.2", 6379), static_cast<uint32_t>(WEFT_POLICY_DENY));

  // Entries nobody compiled (a stale agent, a manual poke) are removed.
  weft_policy_verdict_key stray{};
  stray.src_workload_id = 99;
  stray.dst_id = 1;
  weft_policy_verdict_value deny{};
  deny.verdict = WEFT_POLICY_DENY;
  ASSERT_EQ(bpf_map__update_elem(skel_->maps.policy_verdicts, &stray, sizeof(stray), &deny,
                                 sizeof(deny), BPF_ANY),
            0);
  // No policy at all: every destination open, every verdict gone. A restarted
  // agent's new writer adopts the maps as they are and removes what nobody
  // compiled.
  auto restarted = PolicyMapWriter::Create(PolicyMapsOf(skel_.get()));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  const CompiledPolicyMaps none = Compile("");
  auto third = (*restarted)->Apply(none);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->deleted, b.verdicts.size() + 1);
  EXPECT_EQ(third->updated, none.dst_v4.size() + none.dst_v6.size() - 2);  // web's stay open
  ExpectMapsHold(none);
  EXPECT_EQ(Lookup("10.0.1.2", 6379), static_cast<uint32_t>(WEFT_POLICY_ALLOW));
  EXPECT_EQ(Lookup("192.0.2.1", 80), static_cast<uint32_t>(WEFT_POLICY_DEFER));
}

TEST_F(PolicyMapWriterTest, RefusesMissingMapsAndForeignLayouts) {
  auto missing = PolicyMapWriter::Create(PolicyMaps{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  PolicyMaps swapped = PolicyMapsOf(skel_.get());
  std::swap(swapped.dst_v4, swapped.verdicts);
  auto foreign = PolicyMapWriter::Create(swapped);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(foreign.status().message().find("policy_dst_v4"), std::string::npos)
      << foreign.status();
}

// 20 local pods x 2,000 destinations x 100 policies: compile and apply time, and
// what one lookup costs in the kernel (run-time stats over 20,000 runs). Bounds
// are loose: they catch a lookup that stopped being a few hash lookups, or a
// compiler gone quadratic, not a slow machine.
TEST_F(PolicyMapWriterTest, NodeSizedMapsApplyAndLookupCost) {
  ClusterConfig c;
  std::vector<SourceWorkload> sources;
  auto* ns = c.add_namespaces();
  ns->set_name("n");
  (*ns->mutable_labels())["weft.dev/dataplane-mode"] = "ambient";
  for (int i = 0; i < 2000; ++i) {
    auto* w = c.add_workloads();
    w->set_uid(absl::StrCat("w", i));
    w->set_namespace_("n");
    w->set_service_account(absl::StrCat("sa", i % 7));
    w->add_addresses(absl::StrCat("10.", i / 250, ".", i % 250, ".1"));
    (*w->mutable_labels())["app"] = absl::StrCat("app", i % 10);
    if (i < 20)
      sources.push_back(
          {static_cast<uint32_t>(i + 1), "n", w->service_account(), {w->addresses(0)}});
  }
  for (int p = 0; p < 100; ++p) {
    auto* ap = c.add_authorization_policies();
    ap->set_name(absl::StrCat("p", p));
    ap->set_namespace_("n");
    ap->set_action(p % 4 == 0 ? weft::config::v1::AuthorizationPolicy::DENY
                              : weft::config::v1::AuthorizationPolicy::ALLOW);
    (*ap->mutable_selector()->mutable_match_labels())["app"] = absl::StrCat("app", p % 10);
    auto* rule = ap->add_rules();
    rule->add_from()->add_principals(absl::StrCat("spiffe://cluster.local/ns/n/sa/sa", p % 7));
    rule->add_to()->add_ports(9000 + p % 20);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto compiler = PolicyCompiler::Create(c);
  ASSERT_TRUE(compiler.ok());
  const CompiledPolicyMaps m = (*compiler)->Compile(sources, PolicyCapacity{});
  const double compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(m.deferred.empty()) << "node-sized set must fit the default capacity";
  t0 = std::chrono::steady_clock::now();
  auto applied = writer_->Apply(m);
  ASSERT_TRUE(applied.ok()) << applied.status();
  const double apply_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  t0 = std::chrono::steady_clock::now();
  auto reapplied = writer_->Apply(m);
  ASSERT_TRUE(reapplied.ok());
  const double reapply_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(reapplied->added + reapplied->updated + reapplied->deleted, 0u);

  const int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  ASSERT_GE(stats_fd, 0) << std::strerror(errno);
  const int prog_fd = bpf_program__fd(skel_->progs.policy_verdict);
  constexpr int kRuns = 20000;
  // Mean kernel run time of the harness over kRuns lookups; `known` picks a
  // mesh destination (2-3 lookups) or an unknown one (1 lookup, the floor).
  auto measure = [&](bool known, uint64_t& runs) {
    bpf_prog_info before{}, after{};
    uint32_t len = sizeof(before);
    EXPECT_EQ(bpf_obj_get_info_by_fd(prog_fd, &before, &len), 0);
    for (int i = 0; i < kRuns; ++i) {
      // Port 9000+p hits a port entry for some pairs, the port-0 fallback for others.
      policy_harness_ctx ctx{};
      ctx.src_workload_id = 1 + i % 20;
      ctx.family = 4;
      const int w = (i * 7919) % 2000;
      const std::string addr = absl::StrCat(known ? "10." : "11.", w / 250, ".", w % 250, ".1");
      ctx.dst_addr[2] = htonl(0xffff);
      inet_pton(AF_INET, addr.c_str(), &ctx.dst_addr[3]);
      ctx.dst_port = htons(static_cast<uint16_t>(9000 + i % 30));
      LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
      EXPECT_EQ(bpf_prog_test_run_opts(prog_fd, &opts), 0);
      EXPECT_EQ(ctx.verdict != WEFT_POLICY_DEFER, known);
    }
    len = sizeof(after);
    EXPECT_EQ(bpf_obj_get_info_by_fd(prog_fd, &after, &len), 0);
    runs = after.run_cnt - before.run_cnt;
    return static_cast<double>(after.run_time_ns - before.run_time_ns) /
           static_cast<double>(std::max<uint64_t>(runs, 1));
  };
  uint64_t runs = 0, miss_runs = 0;
  const double ns_per_lookup = measure(true, runs);
  const double ns_per_miss = measure(false, miss_runs);
  close(stats_fd);
  std::printf(
      "policy maps: %zu verdicts + %zu addresses; compile %.1f ms, apply %.1f ms, "
      "re-apply (no change) %.1f ms; harness run %.0f ns with a verdict, %.0f ns for an "
      "unknown destination (mean of %llu runs each, kernel run-time stats)\n",
      m.verdicts.size(), m.dst_v4.size(), compile_ms, apply_ms, reapply_ms, ns_per_lookup,
      ns_per_miss, static_cast<unsigned long long>(runs));
  EXPECT_EQ(runs, static_cast<uint64_t>(kRuns));
  EXPECT_EQ(miss_runs, static_cast<uint64_t>(kRuns));
  EXPECT_LT(ns_per_lookup, 5000.0);
  EXPECT_LT(compile_ms, 5000.0);
}

}  // namespace
}  // namespace weft::bpf::policy
