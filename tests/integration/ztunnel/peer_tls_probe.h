// A deliberately misbehaving HBONE peer: a blocking OpenSSL client (or a raw TCP writer)
// dialled from inside a network namespace at a ztunnel's inbound port, to check that
// ztunnel refuses it. The probe reports what the server did, not what it should have done.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace weft::ztunnel::testing {

struct PeerTlsProbeOptions {
  std::string netns;    // /run/netns/<netns> to dial from
  std::string address;  // ip
  int port = 15008;
  std::string cert_pem;  // empty: present no certificate
  std::string key_pem;
  bool tls12_only = false;  // cap the client at TLS 1.2
  std::string raw_bytes;    // non-empty: no TLS at all, write these bytes instead
  int timeout_ms = 5000;
};

struct PeerTlsProbeResult {
  bool handshake_completed = false;  // SSL_connect returned 1 (TLS 1.3 clients finish first)
  // The server sent application data (HTTP/2 SETTINGS) after our preface: it accepted us.
  bool server_spoke_http2 = false;
  bool closed_by_server = false;  // EOF, reset or a TLS alert before any application data
  std::string detail;             // OpenSSL error queue / errno, for failure messages
};

// Dials, handshakes (unless raw_bytes), sends the HTTP/2 client preface and a SETTINGS frame,
// and waits up to timeout_ms for the server to answer or close. A non-OK status means the
// probe itself could not run (no namespace, connect refused).
absl::StatusOr<PeerTlsProbeResult> RunPeerTlsProbe(const PeerTlsProbeOptions& options);

}  // namespace weft::ztunnel::testing
