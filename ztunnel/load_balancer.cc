#include "ztunnel/load_balancer.h"

namespace weft::ztunnel {

using weft::config::v1::Service;

const ServiceEndpoint* LoadBalancer::Pick(const ServiceInfo& service,
                                          const std::vector<ServiceEndpoint>& endpoints) {
  if (endpoints.empty()) return nullptr;
  const size_t n = endpoints.size();
  switch (service.proto->load_balancing()) {
    case Service::RANDOM:
      return &endpoints[std::uniform_int_distribution<size_t>(0, n - 1)(random_)];
    case Service::LEAST_REQUEST: {
      const uint64_t start = next_[service.key]++;
      const ServiceEndpoint* best = nullptr;
      uint64_t best_active = 0;
      for (size_t i = 0; i < n; ++i) {
        const ServiceEndpoint& e = endpoints[(start + i) % n];
        const uint64_t a = active(e.address);
        if (best == nullptr || a < best_active) {
          best = &e;
          best_active = a;
        }
      }
      return best;
    }
    default:
      return &endpoints[next_[service.key]++ % n];
  }
}

void LoadBalancer::Started(const std::string& endpoint) { ++active_[endpoint]; }

void LoadBalancer::Finished(const std::string& endpoint) {
  auto it = active_.find(endpoint);
  if (it == active_.end()) return;
  if (--it->second == 0) active_.erase(it);
}

uint64_t LoadBalancer::active(const std::string& endpoint) const {
  auto it = active_.find(endpoint);
  return it == active_.end() ? 0 : it->second;
}

}  // namespace weft::ztunnel
