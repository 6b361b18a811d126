// IPv4/IPv6 addresses and CIDR prefixes as the authorization evaluator compares
// them: parsed once when a policy snapshot is built, so evaluating a connection
// is byte comparisons only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace weft::authz {

struct IpAddress {
  enum class Family : uint8_t { kV4, kV6 };
  Family family = Family::kV4;
  // Network order; a v4 address uses the first 4 bytes, the rest stay zero.
  std::array<uint8_t, 16> bytes{};

  static absl::StatusOr<IpAddress> Parse(std::string_view text);
  static IpAddress V4(uint32_t network_order);
  bool is_v4() const { return family == Family::kV4; }
  std::string ToString() const;
  bool operator==(const IpAddress&) const = default;
};

// "10.0.0.0/8", "fd00::/64", or a bare address (a /32 or /128). Families never
// match each other: a v4 block does not contain an IPv4-mapped v6 address, the same
// way the kernel's connect4 and connect6 hooks see them apart.
struct IpPrefix {
  IpAddress base;
  int length = 0;

  static absl::StatusOr<IpPrefix> Parse(std::string_view text);
  bool Contains(const IpAddress& address) const;
};

}  // namespace weft::authz
