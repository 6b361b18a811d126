// The two stunnel(8) configuration files of the stunnel comparison mode, as text. Kept
// apart from process handling so what the mode promises (TLS 1.3 only, AES-GCM first,
// mutual authentication, TCP_NODELAY) is visible in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/modes/throwaway_pki.h"

namespace weft::bench::modes {

struct StunnelService {
  std::string name;         // section name: [a-zA-Z0-9_-]
  uint16_t client_port;     // client side listens 127.0.0.1:client_port
  uint16_t server_port;     // server side listens server_ip:server_port
  std::string app_address;  // server side connects here, e.g. "127.0.0.1:8080"
};

enum class StunnelSide { kClient, kServer };

struct StunnelConfigInput {
  StunnelSide side = StunnelSide::kClient;
  std::string server_ip;
  std::vector<StunnelService> services;
  ThrowawayPki pki;
  std::string log_path;
  bool tcp_nodelay = true;
  bool log_connections = true;  // `debug = info`: handshakes and peer certificates logged
};

// TLS 1.3 ciphersuites in preference order: AES-GCM first (AES-NI), ChaCha20 last.
inline constexpr char kStunnelCiphersuites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

std::string RenderStunnelConfig(const StunnelConfigInput& input);

// "host:port" with brackets around an IPv6 host.
std::string JoinHostPort(const std::string& host, uint16_t port);

}  // namespace weft::bench::modes
