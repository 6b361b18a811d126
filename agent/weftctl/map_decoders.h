// Turns the raw key/value bytes of weft's pinned maps into named fields, using the ABI
// structs the BPF programs share with the agent (bpf/capture.h, policy.h, inbound.h,
// shortcircuit.h). A map is recognised by its pin name, which unlike the kernel's map
// name is not cut at 15 characters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/weftctl/pinned_maps.h"

namespace weft::weftctl {

struct DecodedField {
  std::string name;
  std::string text;                // how the table shows it
  std::optional<uint64_t> number;  // set for counts and ids: JSON writes a number
};
using DecodedEntry = std::vector<DecodedField>;

// The name a map is decoded by: the last component of its pin path.
std::string PinName(const PinnedMap& map);

// True when weft knows how to decode this map's entries.
bool HasDecoder(const PinnedMap& map);

// nullopt when the map is unknown or its key/value size is not the one the ABI header
// describes (a newer or older layout): raw bytes are never misread as fields.
std::optional<DecodedEntry> DecodeEntry(const PinnedMap& map, const MapEntry& entry);

// Text of an address given as network-order bytes: 4 bytes IPv4, 16 bytes IPv6
// (v4-mapped IPv6 is shown as IPv4).
std::string FormatIp(const uint8_t* bytes, size_t size);

}  // namespace weft::weftctl
