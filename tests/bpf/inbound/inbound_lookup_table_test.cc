// BPF_PROG_TEST_RUN table for the inbound sk_lookup program: the verdict and the
// selected socket for each kind of lookup, configured through InboundSteering. Runs
// inside a netns the test creates (a test run uses the caller's netns).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "agent/bpf/inbound/bpffs_pins.h"
#include "agent/bpf/inbound/inbound_steering.h"
#include "common/host/netns.h"
#include "gtest/gtest.h"
#include "tests/bpf/inbound/test_netns.h"

namespace weft::bpf {
namespace {

using testing::Listen;
using testing::SocketCookie;
using testing::TestNetns;
using testing::TestPinDir;

constexpr uint32_t kSkDrop = 0;
constexpr uint32_t kSkPass = 1;

struct Lookup {
  int family = AF_INET;
  int protocol = IPPROTO_TCP;
  std::string src;
  uint16_t sport = 40000;
  std::string dst;
  uint16_t dport = 8080;
};

struct Result {
  uint32_t verdict = 99;
  uint64_t cookie = 0;  // socket the program assigned, 0 for none
};

class InboundLookupTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns = TestNetns::Create("tbl");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = std::move(*ns);
    auto steering = InboundSteering::Create(pins_.path());
    ASSERT_TRUE(steering.ok()) << steering.status();
    steering_ = std::move(*steering);
    auto cookie = steering_->Attach(ns_->fd(), InboundMode::kPermissive);
    ASSERT_TRUE(cookie.ok()) << cookie.status();
    cookie_ = *cookie;
    ASSERT_TRUE(steering_->AddPodAddress(cookie_, *PodAddress::Parse(kPod4)).ok());
    ASSERT_TRUE(steering_->AddPodAddress(cookie_, *PodAddress::Parse(kPod6)).ok());
    auto l4 = Listen(ns_.get(), "127.0.0.1", 15006);
    auto l6 = Listen(ns_.get(), "::1", 15006);
    ASSERT_TRUE(l4.ok() && l6.ok()) << l4.status() << l6.status();
    listener4_ = *l4;
    listener6_ = *l6;
    ASSERT_TRUE(steering_->RegisterListener(cookie_, listener4_).ok());
    ASSERT_TRUE(steering_->RegisterListener(cookie_, listener6_).ok());
  }

  void TearDown() override {
    if (listener4_ >= 0) close(listener4_);
    if (listener6_ >= 0) close(listener6_);
    steering_.reset();
    InboundSteering::Uninstall(pins_.path()).IgnoreError();
  }

  Result Run(const Lookup& l) {
    bpf_sk_lookup in{}, out{};
    in.family = l.family;
    in.protocol = l.protocol;
    in.remote_port = htons(l.sport);
    in.local_port = l.dport;
    if (l.family == AF_INET) {
      inet_pton(AF_INET, l.src.c_str(), &in.remote_ip4);
      inet_pton(AF_INET, l.dst.c_str(), &in.local_ip4);
    } else {
      inet_pton(AF_INET6, l.src.c_str(), in.remote_ip6);
      inet_pton(AF_INET6, l.dst.c_str(), in.local_ip6);
    }
    Result r;
    ns_->Run([&] {
      LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &in, .ctx_out = &out,
                  .ctx_size_in = sizeof(in), .ctx_size_out = sizeof(out));
      int err = bpf_prog_test_run_opts(steering_->lookup_program_fd(), &opts);
      EXPECT_EQ(err, 0) << "BPF_PROG_TEST_RUN: " << strerror(errno);
      r.verdict = opts.retval;
      r.cookie = out.cookie;
    });
    return r;
  }

  InboundCounters Counters() {
    auto c = steering_->Counters(cookie_);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : InboundCounters{};
  }

  static constexpr char kPod4[] = "10.77.0.2";
  static constexpr char kPod6[] = "fd00:77::2";
  static constexpr char kClient4[] = "10.77.1.9";
  static constexpr char kClient6[] = "fd00:77:1::9";

  TestPinDir pins_;
  std::unique_ptr<TestNetns> ns_;
  std::unique_ptr<InboundSteering> steering_;
  uint64_t cookie_ = 0;
  int listener4_ = -1;
  int listener6_ = -1;
};

TEST_F(InboundLookupTableTest, PermissiveSteersToTheRegisteredListener) {
  Result v4 = Run({.src = kClient4, .dst = kPod4, .dport = 8080});
  EXPECT_EQ(v4.verdict, kSkPass);
  EXPECT_EQ(v4.cookie, SocketCookie(listener4_));
  Result v6 = Run({.family = AF_INET6, .src = kClient6, .dst = kPod6, .dport = 443});
  EXPECT_EQ(v6.verdict, kSkPass);
  EXPECT_EQ(v6.cookie, SocketCookie(listener6_));
  EXPECT_EQ(Counters().steered, 2u);
}

TEST_F(InboundLookupTableTest, StrictDrops) {
  ASSERT_TRUE(steering_->SetMode(cookie_, InboundMode::kStrict).ok());
  Result r = Run({.src = kClient4, .dst = kPod4, .dport = 8080});
  EXPECT_EQ(r.verdict, kSkDrop);
  EXPECT_EQ(r.cookie, 0u);
  EXPECT_EQ(Counters().dropped, 1u);
  EXPECT_EQ(Counters().steered, 0u);
}

TEST_F(InboundLookupTableTest, LeftAlone) {
  ASSERT_TRUE(steering_->ExcludePort(cookie_, 9090).ok());
  ASSERT_TRUE(steering_->ExcludePort(0, 9191).ok());  // every netns
  struct Row {
    const char* what;
    Lookup lookup;
    bool counted_as_passed;
  };
  const Row rows[] = {
      {"HBONE 15008", {.src = kClient4, .dst = kPod4, .dport = 15008}, true},
      {"HBONE 15008 v6", {.family = AF_INET6, .src = kClient6, .dst = kPod6, .dport = 15008}, true},
      {"port excluded for this netns", {.src = kClient4, .dst = kPod4, .dport = 9090}, true},
      {"port excluded for all netns", {.src = kClient4, .dst = kPod4, .dport = 9191}, true},
      {"from the pod's own address", {.src = kPod4, .dst = kPod4, .dport = 8080}, true},
      {"from loopback", {.src = "127.0.0.1", .dst = kPod4, .dport = 8080}, true},
      {"other destination", {.src = kClient4, .dst = "10.77.0.3", .dport = 8080}, false},
      {"other destination v6", {.family = AF_INET6, .src = kClient6, .dst = "fd00:77::3"}, false},
      {"UDP", {.protocol = IPPROTO_UDP, .src = kClient4, .dst = kPod4, .dport = 8080}, false},
  };
  uint64_t passed = 0;
  for (const Row& row : rows) {
    Result r = Run(row.lookup);
    EXPECT_EQ(r.verdict, kSkPass) << row.what;
    EXPECT_EQ(r.cookie, 0u) << row.what << ": must not be steered";
    if (row.counted_as_passed) ++passed;
    EXPECT_EQ(Counters().passed, passed) << row.what;
  }
  EXPECT_EQ(Counters().steered, 0u);
  EXPECT_EQ(Counters().dropped, 0u);
}

TEST_F(InboundLookupTableTest, PermissiveWithoutListenerDrops) {
  close(listener4_);  // the kernel removes a closed socket from the SOCKHASH
  listener4_ = -1;
  Result r = Run({.src = kClient4, .dst = kPod4, .dport = 8080});
  EXPECT_EQ(r.verdict, kSkDrop);
  EXPECT_EQ(Counters().no_listener, 1u);
}

TEST_F(InboundLookupTableTest, UnenrolledAddressAfterDetachIsPassed) {
  ASSERT_TRUE(steering_->Detach(cookie_).ok());
  Result r = Run({.src = kClient4, .dst = kPod4, .dport = 8080});
  EXPECT_EQ(r.verdict, kSkPass);
  EXPECT_EQ(r.cookie, 0u);
  EXPECT_FALSE(steering_->Counters(cookie_).ok()) << "detach must forget the netns' counters";
}

TEST_F(InboundLookupTableTest, SecondLoaderReusesPinnedMapsAndDropsStaleLayouts) {
  const std::string stale = pins_.path() + "/inbound/maps_v0";
  ASSERT_TRUE(MakeDirs(stale).ok());
  ASSERT_EQ(Run({.src = kClient4, .dst = kPod4}).cookie, SocketCookie(listener4_));
  auto second = InboundSteering::Create(pins_.path());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(access(stale.c_str(), F_OK), 0) << "maps of another layout version must go";
  auto counters = (*second)->Counters(cookie_);
  ASSERT_TRUE(counters.ok()) << "the pinned counters map was not reused: " << counters.status();
  EXPECT_EQ(counters->steered, 1u);
  EXPECT_EQ((*second)->AttachedNetns(), std::vector<uint64_t>{cookie_});
}

}  // namespace
}  // namespace weft::bpf
