// Reading and writing the root's PEM files. Writes are atomic (temporary file, fsync, rename)
// so a crash never leaves a truncated key behind, and the key file is created with its final
// mode so it is never readable by others, not even between open() and chmod().
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tls/openssl_handles.h"
#include "common/tls/pem_encoding.h"

namespace weft::ca {

// Writes `contents` to `path` through "<path>.tmp-<random>" created with
// open(O_CREAT|O_EXCL|O_NOFOLLOW, mode), fsync()s it, renames it over `path` and fsync()s the
// directory. Errors name the file and the failed syscall, never the contents.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents, mode_t mode);

// Loads a PEM private key. Refuses a file that is not a regular file or whose mode grants any
// access to group or others (PermissionDenied), and an encrypted key (no passphrase prompt).
absl::StatusOr<tls::EvpPkeyPtr> ReadPrivateKeyFile(const std::string& path);

// Loads the first PEM certificate of `path`.
absl::StatusOr<tls::X509Ptr> ReadCertificateFile(const std::string& path);

// PEM encodings (CertificateToPem, PrivateKeyToPem) live in common/tls/pem_encoding.h.

// Overwrites a buffer that held key material before it is freed.
void WipeString(std::string& secret);

}  // namespace weft::ca
