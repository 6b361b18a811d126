#include "agent/nodeapi/node_api_metrics.h"

namespace weft::agent::nodeapi {

absl::StatusOr<std::unique_ptr<NodeApiMetrics>> NodeApiMetrics::Create(
    admin::MetricsRegistry* registry) {
  std::unique_ptr<NodeApiMetrics> m(new NodeApiMetrics());
  if (registry == nullptr) return m;
  struct CounterSlot {
    prometheus::Counter** target;
    const char* name;
    const char* help;
    const char* result;
  };
  const char* acks = "weft_node_api_config_acks_total";
  const char* acks_help = "Config versions acknowledged by ztunnel, by result (ok, rejected)";
  const char* certs = "weft_node_api_certificates_total";
  const char* certs_help =
      "Certificate requests on the node API, by result (issued, refused: bad or unauthorized "
      "request, error: the agent failed)";
  for (CounterSlot s : {CounterSlot{&m->acks_ok_, acks, acks_help, "ok"},
                        CounterSlot{&m->acks_rejected_, acks, acks_help, "rejected"},
                        CounterSlot{&m->issued_, certs, certs_help, "issued"},
                        CounterSlot{&m->refused_, certs, certs_help, "refused"},
                        CounterSlot{&m->errors_, certs, certs_help, "error"}}) {
    auto counter = registry->Counter(s.name, s.help, {{"result", s.result}});
    if (!counter.ok()) return counter.status();
    *s.target = *counter;
  }
  auto streams = registry->Gauge("weft_node_api_config_streams",
                                 "ztunnel config streams open on the node API");
  if (!streams.ok()) return streams.status();
  m->streams_ = *streams;
  return m;
}

void NodeApiMetrics::RecordAck(bool applied) {
  prometheus::Counter* c = applied ? acks_ok_ : acks_rejected_;
  if (c != nullptr) c->Increment();
}

void NodeApiMetrics::StreamOpened() {
  if (streams_ != nullptr) streams_->Increment();
}

void NodeApiMetrics::StreamClosed() {
  if (streams_ != nullptr) streams_->Decrement();
}

void NodeApiMetrics::RecordIssuance(Issuance result) {
  prometheus::Counter* c = nullptr;
  switch (result) {
    case Issuance::kIssued:
      c = issued_;
      break;
    case Issuance::kRefused:
      c = refused_;
      break;
    case Issuance::kError:
      c = errors_;
      break;
  }
  if (c != nullptr) c->Increment();
}

}  // namespace weft::agent::nodeapi
