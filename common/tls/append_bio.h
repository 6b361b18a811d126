// A write-only OpenSSL BIO that appends everything written to it to a std::string the owner
// holds: TLS records go straight from OpenSSL's record buffer into the string the socket
// sends, with no memory BIO in between (no second copy, no zero-filled resize, no growth
// that copies and wipes the old buffer).
#pragma once

#include <openssl/bio.h>

#include <string>

namespace weft::tls {

// The BIO does not own `sink`, which must outlive it. Returns nullptr on allocation failure.
BIO* NewAppendBio(std::string* sink);

}  // namespace weft::tls
