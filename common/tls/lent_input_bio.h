// The read side of a TLS session's network, without a memory BIO in between: OpenSSL reads
// ciphertext out of the caller's receive buffer, lent for the duration of one call, and only
// the incomplete record left at its end is copied and kept for the next call (a memory BIO
// copied every byte in, and regrew, wiped and freed its buffer as it went).
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::tls {

class LentInput;

// A BIO reading from `input` (which must outlive it; may be set later with BIO_set_data).
// nullptr on allocation failure.
BIO* NewLentInputBio(LentInput* input);

class LentInput {
 public:
  // Offers `data` behind what is kept. It must stay valid until EndLoan().
  void Lend(std::string_view data) { lent_ = data; }
  // Copies the lent bytes OpenSSL has not read into the kept buffer; the loan is over.
  void EndLoan();
  size_t pending() const { return kept_.size() - kept_offset_ + lent_.size(); }
  // Hands a drained buffer that grew past `limit` back to the allocator.
  void ReleaseIfLarger(size_t limit);

 private:
  friend struct LentInputBio;
  size_t Read(char* out, size_t length);

  std::string kept_;
  size_t kept_offset_ = 0;  // bytes of kept_ already read
  std::string_view lent_;
};

}  // namespace weft::tls
