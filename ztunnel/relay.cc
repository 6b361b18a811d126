#include "ztunnel/relay.h"

namespace weft::ztunnel {
namespace {

// Bytes held for a leg that is not attached yet before the source stops reading.
constexpr size_t kHeldLimit = 256 * 1024;

}  // namespace

Relay::Relay(ConnectionTelemetry* telemetry, ConnectionRecord record, Hooks hooks)
    : telemetry_(telemetry), record_(std::move(record)), hooks_(std::move(hooks)) {}

Relay::~Relay() { Finish(); }

void Relay::Attach(Side side, RelayLeg* leg) {
  pending_[side] = nullptr;
  legs_[side] = leg;
  ever_attached_[side] = true;
  if (side == kUpstream && !opened_) {
    opened_ = true;
    if (telemetry_) telemetry_->Opened(record_);
    if (hooks_.on_upstream_ready) hooks_.on_upstream_ready();
    if (legs_[side] == nullptr) return;  // the hook tore it down
  }
  // held_[side] is what the other leg read for this one while it was not attached yet.
  const Side other = Other(side);
  if (!held_[side].empty()) {
    std::string held;
    held.swap(held_[side]);
    if (side == kUpstream) record_.bytes_sent += held.size();
    else record_.bytes_received += held.size();
    const bool accepted = leg->Deliver(held);
    // A source paused at the hold bound reads again unless this leg is backed up now.
    if (legs_[other] != nullptr) legs_[other]->SetReading(accepted);
  } else if (legs_[other] != nullptr) {
    legs_[other]->SetReading(true);
  }
  if (held_end_[side] && legs_[side] != nullptr) {
    held_end_[side] = false;
    legs_[side]->DeliverEnd();
  }
}

void Relay::OnRead(Side from, std::string_view data) {
  const Side to = Other(from);
  if (legs_[to] == nullptr) {
    if (closed_[to]) return;  // nobody left to take it
    held_[to].append(data);
    if (held_[to].size() > kHeldLimit && legs_[from] != nullptr) legs_[from]->SetReading(false);
    return;
  }
  if (from == kDownstream) record_.bytes_sent += data.size();
  else record_.bytes_received += data.size();
  if (!legs_[to]->Deliver(data) && legs_[from] != nullptr) legs_[from]->SetReading(false);
}

void Relay::OnReadEnd(Side from) {
  const Side to = Other(from);
  if (legs_[to] == nullptr) {
    held_end_[to] = true;
    return;
  }
  legs_[to]->DeliverEnd();
}

void Relay::OnDrained(Side side) {
  const Side other = Other(side);
  if (legs_[other] != nullptr) legs_[other]->SetReading(true);
}

void Relay::OnLegClosed(Side side, const absl::Status& reason) {
  legs_[side] = nullptr;
  pending_[side] = nullptr;
  closed_[side] = true;
  if (!reason.ok() && first_error_.ok()) first_error_ = reason;
  const Side other = Other(side);
  if (!ever_attached_[side] && side == kUpstream) {
    if (hooks_.on_upstream_failed) {
      hooks_.on_upstream_failed(reason.ok() ? absl::UnavailableError("upstream closed") : reason);
    }
    if (legs_[other] != nullptr) {
      legs_[other]->Abort(reason.ok() ? absl::UnavailableError("upstream closed") : reason);
    }
  } else if (!reason.ok() && legs_[other] != nullptr) {
    legs_[other]->Abort(reason);
  }
  if (pending_[other] != nullptr) {
    RelayLeg* pending = pending_[other];
    pending_[other] = nullptr;
    pending->Abort(reason.ok() ? absl::CancelledError("peer went away") : reason);
  }
  if (finished()) Finish();
}

void Relay::AbortAll(const absl::Status& reason) {
  for (Side s : {kDownstream, kUpstream}) {
    if (legs_[s] != nullptr) legs_[s]->Abort(reason);
    if (pending_[s] != nullptr) pending_[s]->Abort(reason);
  }
}

void Relay::Finish() {
  if (reported_) return;
  reported_ = true;
  if (hooks_.on_finished) hooks_.on_finished();
  if (telemetry_ == nullptr) return;
  if (opened_) {
    telemetry_->Closed(record_, first_error_);
  } else {
    telemetry_->Failed(record_, failure_reason_,
                       first_error_.ok() ? std::string() : std::string(first_error_.message()));
  }
}

}  // namespace weft::ztunnel
