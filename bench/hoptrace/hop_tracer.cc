#include "bench/hoptrace/hop_tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sys/stat.h>

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bpf/hoptrace.h"
#include "common/log/logger.h"
#include "common/status/errno_status.h"
#include "hoptrace.skel.h"

namespace weft::hoptrace {
namespace {

absl::StatusOr<uint64_t> InodeOf(const std::string& path, const char* what) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, what, path);
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace

absl::StatusOr<uint64_t> CgroupIdOf(const std::string& cgroup_dir) {
  return InodeOf(cgroup_dir, "hoptrace: stat cgroup");
}

absl::StatusOr<uint64_t> NetnsInodeOf(const std::string& netns_path) {
  return InodeOf(netns_path, "hoptrace: stat netns");
}

absl::StatusOr<std::unique_ptr<HopTracer>> HopTracer::Start(const HopTraceSpec& spec) {
  std::vector<std::string> names;
  for (const HopParticipant& p : spec.participants) {
    if (p.tgids.empty() && p.cgroup_ids.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("hoptrace: participant \"", p.name, "\" has neither tgids nor cgroups"));
    }
    names.push_back(p.name);
  }
  absl::StatusOr<std::unique_ptr<HopAssembler>> assembler =
      HopAssembler::Create(std::move(names), 0);
  if (!assembler.ok()) return assembler.status();
  if (spec.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("hoptrace: poll_interval must be positive");
  }

  ::hoptrace* skel = ::hoptrace::open_and_load();
  if (skel == nullptr) return ErrnoStatus(errno, "hoptrace: open and load", "hoptrace.bpf.o");
  std::unique_ptr<HopTracer> tracer(new HopTracer(skel, *std::move(assembler), spec.poll_interval));
  if (absl::Status s = tracer->Configure(spec); !s.ok()) return s;
  if (absl::Status s = tracer->Attach(); !s.ok()) return s;
  tracer->poller_ = std::thread([t = tracer.get()] { t->PollLoop(); });
  return tracer;
}

HopTracer::HopTracer(::hoptrace* skel, std::unique_ptr<HopAssembler> assembler, absl::Duration poll)
    : skel_(skel), poll_interval_(poll), assembler_(std::move(assembler)) {}

HopTracer::~HopTracer() {
  Stop();
  if (ring_ != nullptr) ring_buffer__free(ring_);
  ::hoptrace::destroy(skel_);
}

absl::Status HopTracer::Configure(const HopTraceSpec& spec) {
  // Several participants may share a tgid or a cgroup: the kernel gets a bit mask.
  std::map<uint32_t, uint32_t> tgids;
  std::map<uint64_t, uint32_t> cgroups;
  for (size_t i = 0; i < spec.participants.size(); ++i) {
    const HopParticipant& p = spec.participants[i];
    for (uint32_t tgid : p.tgids) tgids[tgid] |= 1u << i;
    for (uint64_t id : p.cgroup_ids) cgroups[id] |= 1u << i;
    uint32_t key = static_cast<uint32_t>(i);
    hoptrace_netns_filter filter{p.netns_inode};
    if (bpf_map__update_elem(skel_->maps.hoptrace_netns, &key, sizeof(key), &filter, sizeof(filter),
                             BPF_ANY) != 0) {
      return ErrnoStatus(errno, "hoptrace: update", "hoptrace_netns");
    }
  }
  if (tgids.size() > HOPTRACE_MAX_TGIDS || cgroups.size() > HOPTRACE_MAX_CGROUPS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hoptrace: at most ", HOPTRACE_MAX_TGIDS, " tgids and ", HOPTRACE_MAX_CGROUPS, " cgroups"));
  }
  for (const auto& [tgid, mask] : tgids) {
    hoptrace_match match{mask, 0};
    if (bpf_map__update_elem(skel_->maps.hoptrace_tgids, &tgid, sizeof(tgid), &match, sizeof(match),
                             BPF_ANY) != 0) {
      return ErrnoStatus(errno, "hoptrace: update", "hoptrace_tgids");
    }
  }
  for (const auto& [id, mask] : cgroups) {
    hoptrace_match match{mask, 0};
    if (bpf_map__update_elem(skel_->maps.hoptrace_cgroups, &id, sizeof(id), &match, sizeof(match),
                             BPF_ANY) != 0) {
      return ErrnoStatus(errno, "hoptrace: update", "hoptrace_cgroups");
    }
  }
  ring_ = ring_buffer__new(bpf_map__fd(skel_->maps.hoptrace_events), &HopTracer::OnEvent, this,
                           nullptr);
  if (ring_ == nullptr) return ErrnoStatus(errno, "hoptrace: ring_buffer__new", "hoptrace_events");
  return absl::OkStatus();
}

absl::Status HopTracer::Attach() {
  if (::hoptrace::attach(skel_) != 0) {
    return ErrnoStatus(errno, "hoptrace: attach",
                       "tp_btf/tcp_sendmsg_locked, tp_btf/sock_recv_length");
  }
  return absl::OkStatus();
}

int HopTracer::OnEvent(void* context, void* data, size_t size) {
  auto* self = static_cast<HopTracer*>(context);
  std::lock_guard<std::mutex> lock(self->mu_);
  if (size < sizeof(hoptrace_event)) {
    ++self->malformed_;
    return 0;
  }
  const auto* raw = static_cast<const hoptrace_event*>(data);
  HopEvent event;
  event.ts_ns = static_cast<int64_t>(raw->ts_ns);
  event.participant = raw->participant;
  event.direction = raw->direction == HOPTRACE_RECV ? Direction::kRecv : Direction::kSend;
  event.bytes = raw->bytes;
  event.sock_cookie = raw->sock_cookie;
  event.srtt_us = raw->srtt_us;
  self->assembler_->Add(event);
  return 0;
}

void HopTracer::PollLoop() {
  // The kernel submits without wakeups (see hoptrace.bpf.c), so this thread drains on
  // a timer; a 4 MiB ring holds ~100k events, seconds of a busy run.
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!stop_) {
    wake_.wait_for(lock, absl::ToChronoMilliseconds(poll_interval_), [this] { return stop_; });
    lock.unlock();
    const int n = ring_buffer__consume(ring_);
    lock.lock();
    if (n < 0) {
      log::Error("hoptrace: ring buffer consume failed", {{"errno", -n}});
      return;
    }
  }
}

uint64_t HopTracer::LostEvents() const {
  return __atomic_load_n(&skel_->bss->hoptrace_lost_events, __ATOMIC_RELAXED);
}

HopReport HopTracer::Snapshot() {
  if (stopped_) return final_;
  std::lock_guard<std::mutex> lock(mu_);
  HopReport report = assembler_->Report();
  report.lost_events = LostEvents() + malformed_;
  return report;
}

HopReport HopTracer::Stop() {
  if (stopped_) return final_;
  // Detach first, so the drain below sees a ring buffer nobody writes to any more.
  ::hoptrace::detach(skel_);
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (ring_ != nullptr) ring_buffer__consume(ring_);
  final_ = Snapshot();
  stopped_ = true;
  return final_;
}

}  // namespace weft::hoptrace
