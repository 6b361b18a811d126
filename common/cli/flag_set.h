// Command-line flags for weft's binaries: each flag is declared once with its
// default and help text, so `--help` lists every flag with its default and a bad
// flag gets an error that names it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weft::cli {

class FlagSet {
 public:
  // `usage` is the synopsis line, e.g. "weft-agent [flags]".
  FlagSet(std::string usage, std::string summary);

  void String(const std::string& name, std::string* target, const std::string& default_value,
              const std::string& help);
  void Int(const std::string& name, int64_t* target, int64_t default_value,
           const std::string& help);
  void Bool(const std::string& name, bool* target, bool default_value, const std::string& help);
  // A flag that may repeat and whose value may hold several comma-separated items:
  // `--mode a --mode b,c` gives {a, b, c}. Empty items are dropped; left empty when absent.
  void StringList(const std::string& name, std::vector<std::string>* target,
                  const std::string& help);

  // Parses args (no program name). Accepts --name=value, --name value, and for
  // booleans --name / --name=true|false. "--" ends the flags. Returns the
  // positional arguments in order. `--help` / `-h` sets help_requested().
  absl::StatusOr<std::vector<std::string>> Parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_requested_; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string default_text;
    std::string help;
    bool is_bool = false;
    std::function<absl::Status(const std::string&)> set;
  };
  Flag* Find(const std::string& name);

  std::string usage_;
  std::string summary_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

// argv[first..argc) as strings.
std::vector<std::string> Args(int argc, char** argv, int first = 1);

}  // namespace weft::cli
