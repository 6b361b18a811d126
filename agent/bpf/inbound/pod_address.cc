#include "agent/bpf/inbound/pod_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"

namespace weft::bpf {

absl::StatusOr<PodAddress> PodAddress::Parse(std::string_view text) {
  const std::string s(text);
  PodAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("pod address \"", s, "\": expected an IPv4 or IPv6 address"));
}

std::string PodAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, bytes.data(), buf, sizeof(buf)) == nullptr) return "<invalid>";
  return buf;
}

}  // namespace weft::bpf
