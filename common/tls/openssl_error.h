// Turns OpenSSL's thread-local error queue into an absl::Status.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace weft::tls {

// "<what>: <OpenSSL error strings>" with `code`; drains the queue so a later failure does not
// report this one's reasons. OpenSSL reason strings name algorithms and parse positions, never
// key bytes, so the message is safe to log.
absl::Status OpenSslError(absl::StatusCode code, const std::string& what);

// Same with StatusCode::kInternal, for failures that only a broken library or exhausted memory
// can cause.
absl::Status OpenSslInternal(const std::string& what);

}  // namespace weft::tls
