#include "bench/hoptrace/hop_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json/json_string.h"

namespace weft::hoptrace {
namespace {

// Display width of a UTF-8 string (the hop names contain "→" and "µ").
size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

void AppendRow(std::string& out, const HopStats& row, size_t name_width) {
  out += row.name;
  out.append(name_width - DisplayWidth(row.name) + 2, ' ');
  out += absl::StrFormat("%8u %9.1f %9.1f %9.1f %9.1f %9.1f\n", row.count, row.p50_us, row.p90_us,
                         row.p99_us, row.p999_us, row.mean_us);
}

std::string StatsJson(const HopStats& row) {
  return absl::StrFormat(
      "{\"name\":%s,\"count\":%u,\"p50_us\":%.3f,\"p90_us\":%.3f,\"p99_us\":%.3f,"
      "\"p99_9_us\":%.3f,\"mean_us\":%.3f}",
      json::Quoted(row.name), row.count, row.p50_us, row.p90_us, row.p99_us, row.p999_us,
      row.mean_us);
}

}  // namespace

std::string FormatHopTable(const HopReport& report) {
  size_t width = DisplayWidth("hop");
  for (const HopStats& hop : report.hops) width = std::max(width, DisplayWidth(hop.name));
  std::string out = "hop";
  out.append(width - 3 + 2, ' ');
  out += absl::StrFormat("%8s %9s %9s %9s %9s %9s\n", "count", "p50 µs", "p90 µs", "p99 µs",
                         "p99.9 µs", "mean µs");
  for (const HopStats& hop : report.hops) AppendRow(out, hop, width);
  AppendRow(out, report.total, width);
  absl::StrAppend(&out, "round trips ", report.round_trips, ", irregular ", report.irregular,
                  ", overlapping ", report.overlapping, ", lost events ", report.lost_events, "\n");
  for (const SrttStats& s : report.srtt) {
    absl::StrAppend(&out, absl::StrFormat("srtt %s: p50 %.0f µs, p99 %.0f µs (%u samples)\n",
                                          s.participant, s.p50_us, s.p99_us, s.samples));
  }
  return out;
}

std::string HopReportJson(const HopReport& report) {
  std::string out = "{\"hops\":[";
  for (size_t i = 0; i < report.hops.size(); ++i) {
    if (i > 0) out += ",";
    out += StatsJson(report.hops[i]);
  }
  absl::StrAppend(&out, "],\"total\":", StatsJson(report.total),
                  ",\"round_trips\":", report.round_trips, ",\"irregular\":", report.irregular,
                  ",\"overlapping\":", report.overlapping, ",\"lost_events\":", report.lost_events,
                  ",\"path\":[");
  for (size_t i = 0; i < report.path.size(); ++i) {
    if (i > 0) out += ",";
    out += json::Quoted(report.path[i]);
  }
  out += "],\"srtt\":[";
  for (size_t i = 0; i < report.srtt.size(); ++i) {
    if (i > 0) out += ",";
    const SrttStats& s = report.srtt[i];
    out += absl::StrFormat("{\"participant\":%s,\"samples\":%u,\"p50_us\":%.1f,\"p99_us\":%.1f}",
                           json::Quoted(s.participant), s.samples, s.p50_us, s.p99_us);
  }
  out += "]}";
  return out;
}

}  // namespace weft::hoptrace
