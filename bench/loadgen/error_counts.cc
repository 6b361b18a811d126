#include "bench/loadgen/error_counts.h"

#include <errno.h>
#include <string.h>

namespace weft::loadgen {

std::string ErrorKindOfErrno(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "connect_refused";
    case ECONNRESET:
    case EPIPE:
      return "reset";
    case ETIMEDOUT:
      return "timeout";
    case EADDRNOTAVAIL:
      return "no_local_port";
    case ENETUNREACH:
    case EHOSTUNREACH:
      return "unreachable";
    case EPERM:
    case EACCES:
      return "denied";
    default: {
      const char* name = strerrorname_np(err);
      return std::string("errno_") + (name != nullptr ? name : std::to_string(err).c_str());
    }
  }
}

void ErrorCounts::Merge(const ErrorCounts& other) {
  for (const auto& [kind, n] : other.counts_) counts_[kind] += n;
}

uint64_t ErrorCounts::Total() const {
  uint64_t total = 0;
  for (const auto& [kind, n] : counts_) total += n;
  return total;
}

uint64_t ErrorCounts::Of(const std::string& kind) const {
  auto it = counts_.find(kind);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace weft::loadgen
