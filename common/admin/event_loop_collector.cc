#include "common/admin/event_loop_collector.h"

#include <atomic>
#include <cstdint>

namespace weft::admin {
namespace {

using event::EventLoopStats;

struct CounterSpec {
  const char* name;
  const char* help;
  std::atomic<uint64_t> EventLoopStats::* field;
};

constexpr CounterSpec kCounters[] = {
    {"weft_event_loop_connections_accepted_total", "Connections accepted.",
     &EventLoopStats::connections_accepted},
    {"weft_event_loop_connections_connected_total", "Outbound connects that succeeded.",
     &EventLoopStats::connections_connected},
    {"weft_event_loop_connections_closed_total", "Connections closed, for any reason.",
     &EventLoopStats::connections_closed},
    {"weft_event_loop_accept_errors_total", "accept() failures (retried after a pause).",
     &EventLoopStats::accept_errors},
    {"weft_event_loop_connect_failures_total", "Outbound connects refused or failed.",
     &EventLoopStats::connect_failures},
    {"weft_event_loop_connect_timeouts_total", "Outbound connects that hit their timeout.",
     &EventLoopStats::connect_timeouts},
    {"weft_event_loop_peer_resets_total", "Connections reset by the peer (ECONNRESET/EPIPE).",
     &EventLoopStats::peer_resets},
    {"weft_event_loop_io_errors_total", "Other recv/send failures.", &EventLoopStats::io_errors},
    {"weft_event_loop_idle_timeouts_total", "Connections closed for being idle.",
     &EventLoopStats::idle_timeouts},
    {"weft_event_loop_recv_buffers_exhausted_total",
     "Times the receive buffer ring ran dry (reads re-armed, no data lost).",
     &EventLoopStats::recv_buffers_exhausted},
    {"weft_event_loop_received_bytes_total", "Bytes received.", &EventLoopStats::bytes_received},
    {"weft_event_loop_sent_bytes_total", "Bytes sent.", &EventLoopStats::bytes_sent},
    {"weft_event_loop_timers_fired_total", "Timers that fired.", &EventLoopStats::timers_fired},
    {"weft_event_loop_tasks_run_total", "Cross-thread tasks run.", &EventLoopStats::tasks_run},
    {"weft_event_loop_stale_completions_total",
     "Completions for a reused slot, dropped (should stay 0).", &EventLoopStats::stale_completions},
    {"weft_event_loop_completions_total", "io_uring completions processed.",
     &EventLoopStats::completions},
};

}  // namespace

EventLoopCollector::EventLoopCollector(std::vector<const event::EventLoop*> loops)
    : loops_(std::move(loops)) {}

std::vector<prometheus::MetricFamily> EventLoopCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  for (const CounterSpec& spec : kCounters) {
    prometheus::MetricFamily family;
    family.name = spec.name;
    family.help = spec.help;
    family.type = prometheus::MetricType::Counter;
    for (const event::EventLoop* loop : loops_) {
      prometheus::ClientMetric metric;
      metric.label.push_back({"loop", loop->name()});
      metric.counter.value = static_cast<double>(EventLoopStats::Get(loop->stats().*spec.field));
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace weft::admin
