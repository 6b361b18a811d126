#include "common/log/logger.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/json/json_string.h"

namespace weft::log {
namespace {

using json::AppendJsonString;

struct Settings {
  std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
  Format format = Format::kText;
  std::string component = "weft";
};

Settings& settings() {
  static Settings s;
  return s;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "unknown";
}

// Text values are quoted only when they would otherwise be ambiguous.
void AppendTextValue(std::string& out, std::string_view s) {
  bool plain = !s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) plain = false;
  }
  if (plain) {
    out += s;
  } else {
    AppendJsonString(out, s);
  }
}

void AppendValue(std::string& out, const Field& f, Format format) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          format == Format::kJson ? AppendJsonString(out, v) : AppendTextValue(out, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else {
          absl::StrAppend(&out, v);
        }
      },
      f.value);
}

std::string Timestamp(int64_t unix_micros) {
  time_t secs = static_cast<time_t>(unix_micros / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(unix_micros % 1000000));
  return buf;
}

}  // namespace

absl::StatusOr<Level> ParseLevel(std::string_view text) {
  std::string t = absl::AsciiStrToLower(std::string(text));
  if (t == "debug") return Level::kDebug;
  if (t == "info") return Level::kInfo;
  if (t == "warn" || t == "warning") return Level::kWarn;
  if (t == "error") return Level::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("log level \"", std::string(text), "\": expected debug, info, warn or error"));
}

absl::StatusOr<Format> ParseFormat(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format \"", std::string(text), "\": expected text or json"));
}

void Configure(Level min_level, Format format, std::string_view component) {
  settings().min_level.store(static_cast<int>(min_level));
  settings().format = format;
  settings().component = std::string(component);
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= settings().min_level.load(std::memory_order_relaxed);
}

std::string Render(Level level, std::string_view message, Fields fields, Format format,
                   std::string_view component, int64_t unix_micros) {
  std::string out;
  out.reserve(128);
  if (format == Format::kJson) {
    out += "{\"ts\":";
    AppendJsonString(out, Timestamp(unix_micros));
    out += ",\"level\":";
    AppendJsonString(out, LevelName(level));
    out += ",\"component\":";
    AppendJsonString(out, component);
    out += ",\"msg\":";
    AppendJsonString(out, message);
    for (const Field& f : fields) {
      out.push_back(',');
      AppendJsonString(out, f.key);
      out.push_back(':');
      AppendValue(out, f, format);
    }
    out += "}\n";
  } else {
    out += Timestamp(unix_micros);
    for (std::string_view part : {LevelName(level), component, message}) {
      out.push_back(' ');
      out += part;
    }
    for (const Field& f : fields) {
      out.push_back(' ');
      out += f.key;
      out.push_back('=');
      AppendValue(out, f, format);
    }
    out.push_back('\n');
  }
  return out;
}

void Write(Level level, std::string_view message, Fields fields) {
  if (!Enabled(level)) return;
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string line =
      Render(level, message, fields, settings().format, settings().component, now);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr gone: nowhere left to report it
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace weft::log
