#include "common/status/errno_status.h"

#include <cstring>
#include <string>

namespace weft {

absl::Status ErrnoStatus(int err, std::string_view what, std::string_view where) {
  if (err < 0) err = -err;
  std::string message(what);
  if (!where.empty()) {
    message.push_back(' ');
    message.append(where);
  }
  message.append(": ");
  message.append(std::strerror(err));
  return absl::Status(absl::ErrnoToStatusCode(err), message);
}

}  // namespace weft
