#include "ztunnel/stream_leg.h"

#include <nghttp2/nghttp2.h>

#include "absl/strings/str_cat.h"

namespace weft::ztunnel {

StreamLeg::StreamLeg(std::shared_ptr<Relay> relay, Relay::Side side, HboneSessionHost* host)
    : relay_(std::move(relay)), side_(side), host_(host) {}

void StreamLeg::Opened(HboneSessionHost* host, int32_t stream_id, bool await_response) {
  host_ = host;
  stream_id_ = stream_id;
  if (await_response) relay_->RegisterPending(side_, this);
}

bool StreamLeg::Deliver(std::string_view data) {
  if (closed_) return true;
  absl::StatusOr<bool> accepted = host_->session().SendData(stream_id_, data);
  // The flush may already move enough of the buffer out to owe (and pay) the drained
  // notice, before the relay has paused the source: then there is nothing to wait for.
  in_deliver_ = true;
  drained_in_deliver_ = false;
  host_->Flush();
  in_deliver_ = false;
  return !accepted.ok() || *accepted || drained_in_deliver_;
}

void StreamLeg::DeliverEnd() {
  if (closed_) return;
  (void)host_->session().CloseWrite(stream_id_);
  host_->Flush();
}

void StreamLeg::Abort(const absl::Status& reason) {
  if (closed_) return;
  // CONNECT_ERROR tells the peer the TCP connection behind the tunnel was reset.
  host_->session().ResetStream(stream_id_, absl::IsUnavailable(reason) ? NGHTTP2_CONNECT_ERROR
                                                                       : NGHTTP2_CANCEL);
  host_->Flush();
}

void StreamLeg::SetReading(bool enabled) {
  reading_ = enabled;
  if (closed_ || !enabled || unconsumed_ == 0) return;
  host_->session().Consume(stream_id_, unconsumed_);
  unconsumed_ = 0;
  host_->Flush();
}

void StreamLeg::OnResponse(int32_t, int status) {
  if (status == 200) {
    relay_->Attach(side_, this);
    return;
  }
  relay_->SetFailureReason(status == 403 ? "policy_denied" : "upstream_refused");
  // The stream ends after a non-2xx response; OnStreamClosed reports it.
}

void StreamLeg::OnData(int32_t, std::string_view data) {
  relay_->OnRead(side_, data);
  if (reading_ && !closed_) {
    host_->session().Consume(stream_id_, data.size());
  } else {
    unconsumed_ += data.size();
  }
}

void StreamLeg::OnPeerEnd(int32_t) { relay_->OnReadEnd(side_); }

void StreamLeg::OnSendBufferDrained(int32_t) {
  if (in_deliver_) {
    drained_in_deliver_ = true;  // Deliver reports "not backed up" instead
    return;
  }
  relay_->OnDrained(side_);
}

void StreamLeg::OnStreamClosed(int32_t, const absl::Status& status) {
  if (closed_) return;
  closed_ = true;
  relay_->OnLegClosed(side_, status);
  host_->ReleaseStream(stream_id_);
}

void StreamLeg::OnTransportLost(const absl::Status& reason) {
  if (closed_) return;
  closed_ = true;
  relay_->OnLegClosed(side_, reason.ok() ? absl::UnavailableError("tunnel connection closed")
                                         : reason);
}

}  // namespace weft::ztunnel
