// JSON string literals for the places that write JSON by hand (log lines, CLI
// output, debug dumps) rather than through protobuf's JSON printer.
#pragma once

#include <string>
#include <string_view>

namespace weft::json {

// Appends `s` as a quoted JSON string: quotes, backslashes and control characters
// escaped; other bytes (UTF-8 included) copied as they are.
void AppendJsonString(std::string& out, std::string_view s);

inline std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

}  // namespace weft::json
