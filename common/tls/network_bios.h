// The two OpenSSL BIOs a TlsSession's network is made of, instead of memory BIOs (which
// copy every byte in, and regrow, wipe and free their buffers as they go):
// - the write side appends each TLS record straight to a std::string the owner sends;
// - the read side reads ciphertext out of the caller's receive buffer, lent for the span of
//   one call; only the incomplete record left at its end is copied and kept.
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::tls {

// Write-only: appends everything written to `sink`, which must outlive the BIO (it may be
// set later with BIO_set_data). nullptr on allocation failure.
BIO* NewAppendBio(std::string* sink);

// What the read side reads: lent bytes behind the kept tail of earlier ones.
class LentInput {
 public:
  // Offers `data` behind what is kept. It must stay valid until EndLoan().
  void Lend(std::string_view data) { lent_ = data; }
  // Copies the lent bytes OpenSSL has not read into the kept buffer; the loan is over.
  void EndLoan();
  size_t pending() const { return kept_.size() - kept_offset_ + lent_.size(); }
  // Hands a drained buffer that grew past `limit` back to the allocator.
  void ReleaseIfLarger(size_t limit);
  // Moves up to `length` bytes to `out`; returns how many.
  size_t Read(char* out, size_t length);

 private:
  std::string kept_;
  size_t kept_offset_ = 0;  // bytes of kept_ already read
  std::string_view lent_;
};

// Read-only: reads from `input`, which must outlive the BIO (it may be set later with
// BIO_set_data). nullptr on allocation failure.
BIO* NewLentInputBio(LentInput* input);

}  // namespace weft::tls
