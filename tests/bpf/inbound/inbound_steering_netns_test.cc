// Real connections into a pod netns the test creates: a peer netns connected by a
// veth plays the remote client, and ztunnel's listeners are plain sockets in the pod.
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/bpf/inbound/inbound_steering.h"
#include "gtest/gtest.h"
#include "tests/bpf/inbound/test_netns.h"

namespace weft::bpf {
namespace {

using testing::Accept;
using testing::Addr;
using testing::AddrToString;
using testing::Connect;
using testing::Listen;
using testing::LocalAddr;
using testing::SameAddr;
using testing::TestNetns;
using testing::TestPinDir;

constexpr char kPod4[] = "10.78.0.2";
constexpr char kPod6[] = "fd00:78::2";
constexpr int kConnectMs = 2000;
// A dropped SYN would be retransmitted after 1 s: 400 ms bounds a refusal.
constexpr int kDroppedMs = 400;

bool Refused(const absl::Status& s) { return absl::StrContains(s.message(), "Connection refused"); }
bool TimedOut(const absl::Status& s) {
  return absl::StrContains(s.message(), "Connection timed out");
}

class InboundSteeringNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pod = TestNetns::Create("pod");
    ASSERT_TRUE(pod.ok()) << pod.status();
    pod_ = std::move(*pod);
    auto peer = TestNetns::Create("peer");
    ASSERT_TRUE(peer.ok()) << peer.status();
    peer_ = std::move(*peer);
    static int n = 0;
    const std::string a = absl::StrCat("wi", getpid() % 1000000, "a", n);
    const std::string b = absl::StrCat("wi", getpid() % 1000000, "b", n++);
    for (const absl::Status& s : {
             pod_->Ip(absl::StrCat("link add ", a, " type veth peer name ", b, " netns ",
                                   peer_->name())),
             pod_->Ip(absl::StrCat("addr add ", kPod4, "/24 dev ", a)),
             pod_->Ip(absl::StrCat("-6 addr add ", kPod6, "/64 dev ", a, " nodad")),
             pod_->Ip(absl::StrCat("link set ", a, " up")),
             peer_->Ip(absl::StrCat("addr add 10.78.0.1/24 dev ", b)),
             peer_->Ip(absl::StrCat("-6 addr add fd00:78::1/64 dev ", b, " nodad")),
             peer_->Ip(absl::StrCat("link set ", b, " up")),
         }) {
      ASSERT_TRUE(s.ok()) << s;
    }
    ASSERT_NO_FATAL_FAILURE(Enroll());
    auto l4 = Listen(pod_.get(), "127.0.0.1", 15006);
    auto l6 = Listen(pod_.get(), "::1", 15006);
    ASSERT_TRUE(l4.ok() && l6.ok()) << l4.status() << l6.status();
    listener4_ = *l4;
    listener6_ = *l6;
    ASSERT_TRUE(steering_->RegisterListener(cookie_, listener4_).ok());
    ASSERT_TRUE(steering_->RegisterListener(cookie_, listener6_).ok());
  }

  void Enroll() {
    auto steering = InboundSteering::Create(pins_.path());
    ASSERT_TRUE(steering.ok()) << steering.status();
    steering_ = std::move(*steering);
    auto cookie = steering_->Attach(pod_->fd(), InboundMode::kPermissive);
    ASSERT_TRUE(cookie.ok()) << cookie.status();
    cookie_ = *cookie;
    ASSERT_TRUE(steering_->AddPodAddress(cookie_, *PodAddress::Parse(kPod4)).ok());
    ASSERT_TRUE(steering_->AddPodAddress(cookie_, *PodAddress::Parse(kPod6)).ok());
  }

  void TearDown() override {
    for (int fd : {listener4_, listener6_}) {
      if (fd >= 0) close(fd);
    }
    steering_.reset();
    InboundSteering::Uninstall(pins_.path()).IgnoreError();
  }

  // Connects from the peer to pod:port and expects the 15006 listener to accept it
  // with the original destination as its local address.
  void ExpectSteered(const std::string& pod_ip, uint16_t port, int listener) {
    const sockaddr_storage dst = Addr(pod_ip, port);
    auto client = Connect(peer_.get(), dst, kConnectMs);
    ASSERT_TRUE(client.ok()) << client.status();
    auto accepted = Accept(listener, kConnectMs);
    close(*client);
    ASSERT_TRUE(accepted.ok()) << "15006 listener got nothing: " << accepted.status();
    EXPECT_TRUE(SameAddr(LocalAddr(*accepted), dst))
        << "getsockname " << AddrToString(LocalAddr(*accepted)) << " want " << AddrToString(dst);
    close(*accepted);
  }

  TestPinDir pins_;
  std::unique_ptr<TestNetns> pod_;
  std::unique_ptr<TestNetns> peer_;
  std::unique_ptr<InboundSteering> steering_;
  uint64_t cookie_ = 0;
  int listener4_ = -1;
  int listener6_ = -1;
};

TEST_F(InboundSteeringNetnsTest, PlaintextReachesThe15006ListenerWithItsOriginalDestination) {
  ExpectSteered(kPod4, 8080, listener4_);
  ExpectSteered(kPod6, 8080, listener6_);
  ExpectSteered(kPod4, 15006, listener4_);
  auto counters = steering_->Counters(cookie_);
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->steered, 3u);
}

TEST_F(InboundSteeringNetnsTest, HboneReachesItsOwnListener) {
  auto hbone = Listen(pod_.get(), "0.0.0.0", 15008);
  ASSERT_TRUE(hbone.ok()) << hbone.status();
  for (InboundMode mode : {InboundMode::kPermissive, InboundMode::kStrict}) {
    ASSERT_TRUE(steering_->SetMode(cookie_, mode).ok());
    auto client = Connect(peer_.get(), Addr(kPod4, 15008), kConnectMs);
    ASSERT_TRUE(client.ok()) << client.status();
    auto accepted = Accept(*hbone, kConnectMs);
    EXPECT_TRUE(accepted.ok()) << accepted.status();
    EXPECT_FALSE(Accept(listener4_, 0).ok()) << "HBONE must not be steered to 15006";
    close(*client);
    if (accepted.ok()) close(*accepted);
  }
  close(*hbone);
}

TEST_F(InboundSteeringNetnsTest, PermissiveSteersEvenWhenTheAppListens) {
  auto app = Listen(pod_.get(), "0.0.0.0", 8080);
  ASSERT_TRUE(app.ok()) << app.status();
  ExpectSteered(kPod4, 8080, listener4_);
  EXPECT_FALSE(Accept(*app, 0).ok()) << "plaintext must go through ztunnel, not to the app";
  close(*app);
}

TEST_F(InboundSteeringNetnsTest, StrictRefusesPlaintextEvenWhenTheAppListens) {
  auto app = Listen(pod_.get(), "0.0.0.0", 8080);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE(steering_->SetMode(cookie_, InboundMode::kStrict).ok());
  // SK_DROP fails the socket lookup, so TCP answers the SYN with a RST: refused at once.
  auto client = Connect(peer_.get(), Addr(kPod4, 8080), kDroppedMs);
  EXPECT_TRUE(Refused(client.status()) || TimedOut(client.status())) << client.status();
  EXPECT_FALSE(client.ok());
  if (client.ok()) close(*client);
  EXPECT_FALSE(Accept(*app, 0).ok()) << "STRICT let plaintext reach the app";
  EXPECT_FALSE(Accept(listener4_, 0).ok()) << "STRICT steered plaintext to 15006";
  close(*app);
  auto counters = steering_->Counters(cookie_);
  ASSERT_TRUE(counters.ok());
  EXPECT_GE(counters->dropped, 1u);
  EXPECT_EQ(counters->steered, 0u);
}

TEST_F(InboundSteeringNetnsTest, DetachRestoresNormalBehaviour) {
  ExpectSteered(kPod4, 8080, listener4_);
  ASSERT_TRUE(steering_->Detach(cookie_).ok());
  auto client = Connect(peer_.get(), Addr(kPod4, 8080), kConnectMs);
  EXPECT_TRUE(Refused(client.status())) << client.status();
  if (client.ok()) close(*client);
}

TEST_F(InboundSteeringNetnsTest, ConnectionsFromInsideThePodAreNotSteered) {
  auto client = Connect(pod_.get(), Addr(kPod4, 8080), kConnectMs);
  EXPECT_TRUE(Refused(client.status())) << client.status();
  if (client.ok()) close(*client);
  EXPECT_FALSE(Accept(listener4_, 0).ok());
}

TEST_F(InboundSteeringNetnsTest, RestartedLoaderAdoptsThePinnedLink) {
  steering_.reset();  // agent gone: the pinned link keeps steering
  ExpectSteered(kPod4, 8080, listener4_);
  auto again = InboundSteering::Create(pins_.path());
  ASSERT_TRUE(again.ok()) << again.status();
  steering_ = std::move(*again);
  EXPECT_EQ(steering_->AttachedNetns(), std::vector<uint64_t>{cookie_});
  ExpectSteered(kPod4, 8080, listener4_);
  auto counters = steering_->Counters(cookie_);
  ASSERT_TRUE(counters.ok()) << "counters map must be reused across restarts";
  EXPECT_EQ(counters->steered, 2u);

  steering_.reset();
  ASSERT_TRUE(InboundSteering::Uninstall(pins_.path()).ok());
  EXPECT_EQ(access((pins_.path() + "/inbound").c_str(), F_OK), -1);
  auto client = Connect(peer_.get(), Addr(kPod4, 8080), kConnectMs);
  EXPECT_TRUE(Refused(client.status())) << "uninstall must detach: " << client.status();
  if (client.ok()) close(*client);
}

TEST_F(InboundSteeringNetnsTest, RestartedLoaderForgetsLinksOfVanishedPods) {
  steering_.reset();
  close(listener4_);
  close(listener6_);
  listener4_ = listener6_ = -1;
  pod_.reset();  // the pod is gone; its netns is freed asynchronously
  const std::string pin = absl::StrCat(pins_.path(), "/inbound/", cookie_);
  for (int attempt = 0; attempt < 60 && access(pin.c_str(), F_OK) == 0; ++attempt) {
    auto again = InboundSteering::Create(pins_.path());
    ASSERT_TRUE(again.ok()) << again.status();
    if ((*again)->AttachedNetns().empty()) break;
    usleep(50 * 1000);
  }
  EXPECT_NE(access(pin.c_str(), F_OK), 0) << "link of a vanished netns still pinned";
}

}  // namespace
}  // namespace weft::bpf
