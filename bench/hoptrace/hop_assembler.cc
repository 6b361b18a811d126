#include "bench/hoptrace/hop_assembler.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace weft::hoptrace {
namespace {

constexpr size_t kMaxParticipants = 8;

double Microseconds(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

HopStats HopStatsFrom(std::string name, const loadgen::LatencyHistogram& histogram) {
  const loadgen::LatencySummary summary = histogram.Summarize();
  HopStats stats;
  stats.name = std::move(name);
  stats.count = summary.count;
  stats.p50_us = Microseconds(summary.p50);
  stats.p90_us = Microseconds(summary.p90);
  stats.p99_us = Microseconds(summary.p99);
  stats.p999_us = Microseconds(summary.p99_9);
  stats.mean_us = summary.mean / 1000.0;
  return stats;
}

absl::StatusOr<std::unique_ptr<HopAssembler>> HopAssembler::Create(
    std::vector<std::string> participant_names, uint32_t client) {
  if (participant_names.empty() || participant_names.size() > kMaxParticipants) {
    return absl::InvalidArgumentError(absl::StrCat("hoptrace: 1..", kMaxParticipants,
                                                   " participants expected, got ",
                                                   participant_names.size()));
  }
  if (client >= participant_names.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("hoptrace: client index ", client, " is not a participant"));
  }
  return std::unique_ptr<HopAssembler>(new HopAssembler(std::move(participant_names), client));
}

HopAssembler::HopAssembler(std::vector<std::string> participant_names, uint32_t client)
    : names_(std::move(participant_names)), client_(client), srtt_(names_.size()) {
  stages_.reserve(kMaxStages);
}

void HopAssembler::Add(const HopEvent& event) {
  if (event.participant >= names_.size()) return;
  if (event.srtt_us > 0) srtt_[event.participant].Record(int64_t{event.srtt_us} * 1000);

  const bool client_send = event.participant == client_ && event.direction == Direction::kSend;
  const bool client_recv = event.participant == client_ && event.direction == Direction::kRecv;
  if (!open_) {
    // Whatever trails a round trip (the rest of a split answer, flow-control frames)
    // belongs to no round trip.
    if (!client_send) return;
    open_ = true;
    stages_.clear();
    stages_.push_back({event.participant, event.direction, event.ts_ns});
    return;
  }
  const Stage& last = stages_.back();
  if (last.participant == event.participant && last.direction == event.direction) return;
  if (client_send) {
    // The client sent again before its answer arrived: the hops of two requests would
    // interleave, so neither is measured.
    ++overlapping_;
    stages_.clear();
    stages_.push_back({event.participant, event.direction, event.ts_ns});
    return;
  }
  if (stages_.size() == kMaxStages) {
    ++untracked_;
    open_ = false;
    return;
  }
  stages_.push_back({event.participant, event.direction, event.ts_ns});
  if (client_recv) Finish();
}

void HopAssembler::Finish() {
  open_ = false;
  PathKey key;
  key.reserve(stages_.size() * 2);
  for (const Stage& stage : stages_) {
    key.push_back(static_cast<char>(stage.participant));
    key.push_back(static_cast<char>(stage.direction));
  }
  auto it = paths_.find(key);
  if (it == paths_.end()) {
    if (paths_.size() == kMaxTrackedPaths) {
      ++untracked_;
      return;
    }
    it = paths_.emplace(key, PathStats{}).first;
    it->second.hops.resize(stages_.size() - 1);
  }
  PathStats& path = it->second;
  ++path.count;
  for (size_t i = 0; i + 1 < stages_.size(); ++i) {
    path.hops[i].Record(stages_[i + 1].ts_ns - stages_[i].ts_ns);
  }
  path.total.Record(stages_.back().ts_ns - stages_.front().ts_ns);
}

std::string HopAssembler::StageName(uint32_t participant, Direction direction) const {
  return absl::StrCat(names_[participant], direction == Direction::kSend ? " send" : " recv");
}

HopReport HopAssembler::Report() const {
  HopReport report;
  report.overlapping = overlapping_;
  report.irregular = untracked_;
  const std::pair<const PathKey, PathStats>* canonical = nullptr;
  for (const auto& entry : paths_) {
    if (canonical == nullptr || entry.second.count > canonical->second.count) canonical = &entry;
  }
  for (const auto& entry : paths_) {
    if (&entry != canonical) report.irregular += entry.second.count;
  }
  report.total = HopStatsFrom("total", loadgen::LatencyHistogram());
  if (canonical != nullptr) {
    const PathKey& key = canonical->first;
    for (size_t i = 0; i < key.size(); i += 2) {
      report.path.push_back(
          StageName(static_cast<uint8_t>(key[i]), static_cast<Direction>(key[i + 1])));
    }
    for (size_t i = 0; i + 1 < report.path.size(); ++i) {
      report.hops.push_back(HopStatsFrom(absl::StrCat(report.path[i], " → ", report.path[i + 1]),
                                         canonical->second.hops[i]));
    }
    report.total = HopStatsFrom("total", canonical->second.total);
    report.round_trips = canonical->second.count;
  }
  for (size_t i = 0; i < srtt_.size(); ++i) {
    if (srtt_[i].Count() == 0) continue;
    report.srtt.push_back({names_[i], srtt_[i].Count(),
                           static_cast<double>(srtt_[i].Percentile(50)) / 1000.0,
                           static_cast<double>(srtt_[i].Percentile(99)) / 1000.0});
  }
  return report;
}

}  // namespace weft::hoptrace
