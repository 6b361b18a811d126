// Column-aligned plain-text tables for weftctl's human output.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace weft::weftctl {

// Prints `rows` (the first is the header) with each column as wide as its widest cell,
// two spaces apart, every line prefixed by `indent`.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                const std::string& indent = "");

}  // namespace weft::weftctl
