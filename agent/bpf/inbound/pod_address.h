// A pod IP as the inbound maps store it: family + 16 network-order bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace weft::bpf {

struct PodAddress {
  int family = 0;                   // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 in the first 4 bytes

  // "10.1.2.3" or "fd00::3"; InvalidArgument naming the text otherwise.
  static absl::StatusOr<PodAddress> Parse(std::string_view text);
  std::string ToString() const;

  bool operator==(const PodAddress&) const = default;
};

}  // namespace weft::bpf
