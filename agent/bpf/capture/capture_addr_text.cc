#include "agent/bpf/capture/capture_addr_text.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weft::bpf::capture {

absl::StatusOr<Cidr> ParseCidr(const std::string& text) {
  Cidr cidr;
  std::string addr = text;
  int max_prefix = 128;
  size_t slash = text.find('/');
  if (slash != std::string::npos) addr = text.substr(0, slash);
  if (inet_pton(AF_INET, addr.c_str(), cidr.addr) == 1) {
    cidr.family = 4;
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), cidr.addr) == 1) {
    cidr.family = 6;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("excluded CIDR \"", text, "\": expected an IPv4 or IPv6 address[/prefix]"));
  }
  cidr.prefixlen = max_prefix;
  if (slash != std::string::npos) {
    uint32_t prefix = 0;
    if (!absl::SimpleAtoi(text.substr(slash + 1), &prefix) ||
        prefix > static_cast<uint32_t>(max_prefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat("excluded CIDR \"", text, "\": expected a prefix length 0..", max_prefix));
    }
    cidr.prefixlen = prefix;
  }
  // LPM tries ignore host bits on lookup, but a dump should show the network.
  for (int bit = cidr.prefixlen; bit < max_prefix; ++bit) {
    cidr.addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return cidr;
}

std::string FormatEndpoint(const uint32_t addr[4], uint16_t port_be) {
  char buf[INET6_ADDRSTRLEN] = {};
  uint16_t port = ntohs(port_be);
  if (addr[0] == 0 && addr[1] == 0 && addr[2] == htonl(0xffff)) {
    inet_ntop(AF_INET, &addr[3], buf, sizeof(buf));
    return absl::StrCat(buf, ":", port);
  }
  inet_ntop(AF_INET6, addr, buf, sizeof(buf));
  return absl::StrCat("[", buf, "]:", port);
}

}  // namespace weft::bpf::capture
