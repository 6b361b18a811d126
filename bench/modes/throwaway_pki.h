// A throwaway certificate authority and two leaf certificates (client, server) for the
// stunnel comparison mode, made with the openssl CLI: what a user deploying stunnel by
// hand would do. ECDSA P-256 everywhere (the same key type as weft's SPIFFE identities),
// valid for two days, keys written 0600.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace weft::bench::modes {

struct ThrowawayPki {
  std::string ca_cert;  // PEM file paths inside the directory given to Create
  std::string client_cert;
  std::string client_key;
  std::string server_cert;
  std::string server_key;
};

// Writes ca.{crt,key}, client.{crt,key}, server.{crt,key} into `dir` (created if missing,
// files replaced). The server certificate's subjectAltName is `server_name`, as IP:
// when it parses as an IPv4/IPv6 address, else as DNS:; the client's is DNS:stunnel-client.
absl::StatusOr<ThrowawayPki> CreateThrowawayPki(const std::string& dir,
                                                const std::string& server_name);

// True when `text` is a numeric IPv4 or IPv6 address (stunnel's checkIP applies, not
// checkHost).
bool IsIpAddress(const std::string& text);

}  // namespace weft::bench::modes
