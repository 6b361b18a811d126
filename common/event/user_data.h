// The 64-bit io_uring user_data of every submission the event loop makes.
//
// Layout: [63..56] operation kind, [55..32] slot generation, [31..0] slot index.
// The generation lets the loop recognise a completion that belongs to an earlier
// occupant of a reused slot (connection, timer or listener) and drop it instead of
// delivering it to the new occupant.
#pragma once

#include <cstdint>

namespace weft::event {

enum class OpKind : uint8_t {
  kIgnore = 0,   // fire-and-forget (cancel requests); result only counted
  kWakeup = 1,   // eventfd read that carries Post()/Stop() wake-ups
  kAccept = 2,   // multishot accept on a listener slot
  kRecv = 3,     // multishot recv on a connection slot
  kSend = 4,     // sendmsg of the head of a connection's send queue
  kConnect = 5,  // outbound connect, linked to kConnectTimeout
  kConnectTimeout = 6,
  kTimer = 7,  // IORING_OP_TIMEOUT on a timer slot
};

struct UserData {
  OpKind kind = OpKind::kIgnore;
  uint32_t generation = 0;  // only the low 24 bits survive encoding
  uint32_t slot = 0;

  static constexpr uint32_t kGenerationMask = (1u << 24) - 1;

  constexpr uint64_t Encode() const {
    return (static_cast<uint64_t>(kind) << 56) |
           (static_cast<uint64_t>(generation & kGenerationMask) << 32) | slot;
  }

  static constexpr UserData Decode(uint64_t raw) {
    return UserData{static_cast<OpKind>(raw >> 56),
                    static_cast<uint32_t>((raw >> 32) & kGenerationMask),
                    static_cast<uint32_t>(raw & 0xffffffffu)};
  }

  // Generations wrap inside 24 bits so a stored generation compares equal to a decoded one.
  static constexpr uint32_t NextGeneration(uint32_t g) { return (g + 1) & kGenerationMask; }
};

}  // namespace weft::event
