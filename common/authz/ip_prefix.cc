#include "common/authz/ip_prefix.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weft::authz {

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  const std::string s(text);
  IpAddress out;
  if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) {
    out.family = Family::kV4;
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
    out.family = Family::kV6;
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected an IPv4 or IPv6 address, got \"", s, "\""));
}

IpAddress IpAddress::V4(uint32_t network_order) {
  IpAddress out;
  std::memcpy(out.bytes.data(), &network_order, 4);
  return out;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  absl::StatusOr<IpAddress> base = IpAddress::Parse(text.substr(0, slash));
  if (!base.ok()) return base.status();
  IpPrefix out{*base, base->is_v4() ? 32 : 128};
  if (slash == std::string_view::npos) return out;
  int length = 0;
  const int max = out.length;
  if (!absl::SimpleAtoi(std::string(text.substr(slash + 1)), &length) || length < 0 ||
      length > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a prefix length 0-", max, " in \"", std::string(text), "\""));
  }
  out.length = length;
  return out;
}

bool IpPrefix::Contains(const IpAddress& address) const {
  if (address.family != base.family) return false;
  const int full = length / 8;
  if (std::memcmp(address.bytes.data(), base.bytes.data(), full) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[full] & mask) == (base.bytes[full] & mask);
}

}  // namespace weft::authz
