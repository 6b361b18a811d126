// `weftctl validate [--output table|json] FILE...`: loads each file as a
// ClusterConfig and prints every error as "FILE: path.to.field: what was expected
// (line N)". Each file is checked on its own, as a complete config.
#pragma once

#include <string>
#include <vector>

namespace weft::weftctl {

int RunValidate(const std::vector<std::string>& args);

}  // namespace weft::weftctl
