// LoadBalancer: how a worker spreads connections of one service over its endpoints.
#include "ztunnel/load_balancer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace weft::ztunnel {
namespace {

using weft::config::v1::Service;

struct Fixture {
  explicit Fixture(Service::LoadBalancing policy, int n = 3) {
    proto.set_name("web");
    proto.set_namespace_("shop");
    proto.set_load_balancing(policy);
    service = ServiceInfo{&proto, "shop/web", {}};
    for (int i = 0; i < n; ++i) {
      endpoints.push_back(ServiceEndpoint{nullptr, "10.0.0." + std::to_string(i + 1), 8080});
    }
  }
  Service proto;
  ServiceInfo service;
  std::vector<ServiceEndpoint> endpoints;
};

TEST(LoadBalancerTest, RoundRobinCyclesEvenly) {
  Fixture f(Service::ROUND_ROBIN);
  LoadBalancer lb;
  std::vector<std::string> picks;
  for (int i = 0; i < 6; ++i) {
    const ServiceEndpoint* e = lb.Pick(f.service, f.endpoints);
    ASSERT_NE(e, nullptr);
    picks.push_back(e->address);
  }
  // Every endpoint once per cycle, and the same order in the second cycle.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(picks[i], picks[i + 3]);
  std::map<std::string, int> count;
  for (const auto& p : picks) ++count[p];
  EXPECT_EQ(count.size(), 3u);
  for (const auto& [address, n] : count) EXPECT_EQ(n, 2) << address;
}

TEST(LoadBalancerTest, UnspecifiedPolicyIsRoundRobin) {
  Fixture f(Service::LOAD_BALANCING_UNSPECIFIED, 2);
  LoadBalancer lb;
  const std::string first = lb.Pick(f.service, f.endpoints)->address;
  const std::string second = lb.Pick(f.service, f.endpoints)->address;
  EXPECT_NE(first, second);
  EXPECT_EQ(lb.Pick(f.service, f.endpoints)->address, first);
}

TEST(LoadBalancerTest, LeastRequestPrefersTheLeastBusyEndpoint) {
  Fixture f(Service::LEAST_REQUEST);
  LoadBalancer lb;
  lb.Started("10.0.0.1");
  lb.Started("10.0.0.1");
  lb.Started("10.0.0.2");
  lb.Started("10.0.0.3");
  lb.Started("10.0.0.3");
  EXPECT_EQ(lb.active("10.0.0.1"), 2u);
  // Whatever the rotation, 10.0.0.2 has the fewest open connections.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lb.Pick(f.service, f.endpoints)->address, "10.0.0.2");
  // Finished connections no longer count: 10.0.0.1 drops to zero.
  lb.Finished("10.0.0.1");
  lb.Finished("10.0.0.1");
  EXPECT_EQ(lb.active("10.0.0.1"), 0u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lb.Pick(f.service, f.endpoints)->address, "10.0.0.1");
  // A Finished without a Started never goes below zero.
  lb.Finished("10.0.0.9");
  EXPECT_EQ(lb.active("10.0.0.9"), 0u);
}

TEST(LoadBalancerTest, LeastRequestTiesRotate) {
  Fixture f(Service::LEAST_REQUEST);
  LoadBalancer lb;
  std::map<std::string, int> count;
  for (int i = 0; i < 30; ++i) ++count[lb.Pick(f.service, f.endpoints)->address];
  EXPECT_EQ(count.size(), 3u);
}

TEST(LoadBalancerTest, RandomReachesEveryEndpoint) {
  Fixture f(Service::RANDOM, 4);
  LoadBalancer lb;
  std::map<std::string, int> count;
  for (int i = 0; i < 2000; ++i) ++count[lb.Pick(f.service, f.endpoints)->address];
  ASSERT_EQ(count.size(), 4u);
  // 500 expected each; 300 is far outside any plausible fluctuation.
  for (const auto& [address, n] : count) EXPECT_GT(n, 300) << address;
}

TEST(LoadBalancerTest, NoEndpointsGivesNull) {
  for (Service::LoadBalancing policy :
       {Service::ROUND_ROBIN, Service::LEAST_REQUEST, Service::RANDOM, Service::RING_HASH}) {
    Fixture f(policy, 0);
    LoadBalancer lb;
    EXPECT_EQ(lb.Pick(f.service, f.endpoints), nullptr) << policy;
  }
}

}  // namespace
}  // namespace weft::ztunnel
