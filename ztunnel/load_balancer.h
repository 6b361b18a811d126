// Chooses a service endpoint per connection, per the service's load_balancing: round robin
// (default), least request (fewest active connections from this worker; ties in rotation),
// or random. RING_HASH is not supported at L4 yet and falls back to round robin.
// Per worker, so it needs no locks; the spread is per worker, not global.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ztunnel/mesh_view.h"

namespace weft::ztunnel {

class LoadBalancer {
 public:
  // nullptr when there is no endpoint.
  const ServiceEndpoint* Pick(const ServiceInfo& service,
                              const std::vector<ServiceEndpoint>& endpoints);
  // Active-connection bookkeeping for least request (by endpoint address).
  void Started(const std::string& endpoint);
  void Finished(const std::string& endpoint);
  uint64_t active(const std::string& endpoint) const;

 private:
  absl::flat_hash_map<std::string, uint64_t> next_;    // round-robin position per service
  absl::flat_hash_map<std::string, uint64_t> active_;  // open connections per endpoint
  std::minstd_rand random_{std::random_device{}()};
};

}  // namespace weft::ztunnel
