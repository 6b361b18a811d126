// Names one occupant of a slot in one of the event loop's tables (connections, timers,
// listeners). The generation changes every time a slot is reused, so a handle kept after its
// connection closed (in a timer callback, a Post()ed task, another connection's handler)
// is recognised as stale instead of acting on the slot's next occupant.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace weft::event {

template <typename Tag>
struct SlotHandle {
  static constexpr uint32_t kInvalidSlot = std::numeric_limits<uint32_t>::max();

  uint32_t slot = kInvalidSlot;
  uint32_t generation = 0;

  bool valid() const { return slot != kInvalidSlot; }
  friend bool operator==(const SlotHandle&, const SlotHandle&) = default;
  std::string ToString() const { return absl::StrCat(slot, ".", generation); }
  template <typename H>
  friend H AbslHashValue(H h, const SlotHandle& id) {
    return H::combine(std::move(h), id.slot, id.generation);
  }
};

using ConnectionId = SlotHandle<struct ConnectionTag>;
using TimerId = SlotHandle<struct TimerTag>;
using ListenerId = SlotHandle<struct ListenerTag>;

}  // namespace weft::event
