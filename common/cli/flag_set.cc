#include "common/cli/flag_set.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace weft::cli {

FlagSet::FlagSet(std::string usage, std::string summary)
    : usage_(std::move(usage)), summary_(std::move(summary)) {}

void FlagSet::String(const std::string& name, std::string* target,
                     const std::string& default_value, const std::string& help) {
  *target = default_value;
  flags_.push_back({name, default_value.empty() ? "\"\"" : default_value, help, false,
                    [target](const std::string& v) {
                      *target = v;
                      return absl::OkStatus();
                    }});
}

void FlagSet::Int(const std::string& name, int64_t* target, int64_t default_value,
                  const std::string& help) {
  *target = default_value;
  flags_.push_back({name, absl::StrCat(default_value), help, false,
                    [target, name](const std::string& v) {
                      int64_t parsed = 0;
                      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
                      if (ec != std::errc() || end != v.data() + v.size()) {
                        return absl::InvalidArgumentError(absl::StrCat(
                            "flag --", name, " expects an integer, got \"", v, "\""));
                      }
                      *target = parsed;
                      return absl::OkStatus();
                    }});
}

void FlagSet::Bool(const std::string& name, bool* target, bool default_value,
                   const std::string& help) {
  *target = default_value;
  flags_.push_back({name, default_value ? "true" : "false", help, true,
                    [target, name](const std::string& v) {
                      if (v == "true" || v == "1") {
                        *target = true;
                      } else if (v == "false" || v == "0") {
                        *target = false;
                      } else {
                        return absl::InvalidArgumentError(absl::StrCat(
                            "flag --", name, " expects true or false, got \"", v, "\""));
                      }
                      return absl::OkStatus();
                    }});
}

void FlagSet::StringList(const std::string& name, std::vector<std::string>* target,
                         const std::string& help) {
  target->clear();
  flags_.push_back({name, "none", help, false, [target](const std::string& v) {
                      for (absl::string_view item : absl::StrSplit(v, ',', absl::SkipEmpty())) {
                        target->emplace_back(item);
                      }
                      return absl::OkStatus();
                    }});
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg.size() < 3 || arg.rfind("--", 0) != 0) {
      positional.push_back(arg);
      continue;
    }
    std::string body = arg.substr(2);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    Flag* flag = Find(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    std::string value;
    if (eq != std::string::npos) {
      value = body.substr(eq + 1);
    } else if (flag->is_bool) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
    }
    if (absl::Status s = flag->set(value); !s.ok()) return s;
  }
  return positional;
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat("usage: ", usage_, "\n\n", summary_, "\n");
  if (!flags_.empty()) out += "\nflags:\n";
  for (const Flag& f : flags_) {
    absl::StrAppend(&out, "  --", f.name, f.is_bool ? "" : " VALUE", "\n      ", f.help,
                    " (default: ", f.default_text, ")\n");
  }
  absl::StrAppend(&out, "  --help\n      print this help and exit\n");
  return out;
}

std::vector<std::string> Args(int argc, char** argv, int first) {
  std::vector<std::string> out;
  for (int i = first; i < argc; ++i) out.emplace_back(argv[i]);
  return out;
}

}  // namespace weft::cli
