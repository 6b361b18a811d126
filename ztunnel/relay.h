// Joins the two legs of a proxied connection — app socket, upstream socket or HBONE stream —
// so that bytes read on one are delivered on the other, with backpressure (a backed-up leg
// pauses the other's reading until it drains), half-closes passed through, and an abort on
// either side ending both. Reports to telemetry once, when both legs are gone.
//
// Single-threaded: a relay and both its legs live on one worker's loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ztunnel/connection_telemetry.h"

namespace weft::ztunnel {

class RelayLeg {
 public:
  virtual ~RelayLeg() = default;
  // Delivers bytes toward this leg's peer. False: this leg is backed up; the relay pauses
  // the other leg until OnDrained.
  virtual bool Deliver(std::string_view data) = 0;
  // Half-close toward this leg's peer, after what was delivered.
  virtual void DeliverEnd() = 0;
  // Tears the leg down; it answers with Relay::OnLegClosed (possibly later).
  virtual void Abort(const absl::Status& reason) = 0;
  virtual void SetReading(bool enabled) = 0;
};

class Relay {
 public:
  // Downstream: the side that opened the connection; upstream: toward its destination.
  enum Side { kDownstream = 0, kUpstream = 1 };

  struct Hooks {
    // The upstream leg is attached (connect done, tunnel answered 200).
    std::function<void()> on_upstream_ready;
    // The upstream leg went away before it was ever attached.
    std::function<void(const absl::Status&)> on_upstream_failed;
    // Both legs are gone (after telemetry was told).
    std::function<void()> on_finished;
  };

  Relay(ConnectionTelemetry* telemetry, ConnectionRecord record, Hooks hooks = {});
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // A leg is ready to carry bytes. Bytes and an end read on the other side before this are
  // held (up to a bound; reading pauses beyond it) and delivered now.
  void Attach(Side side, RelayLeg* leg);
  // A leg that exists but cannot carry bytes yet (connecting, awaiting the tunnel's 200):
  // aborted with the relay, never delivered to.
  void RegisterPending(Side side, RelayLeg* leg) { pending_[side] = leg; }

  // Events from the legs.
  void OnRead(Side from, std::string_view data);
  void OnReadEnd(Side from);
  void OnDrained(Side side);
  void OnLegClosed(Side side, const absl::Status& reason);

  // Aborts whatever legs are still up (pod removed, drain timeout).
  void AbortAll(const absl::Status& reason);

  ConnectionRecord& record() { return record_; }
  void SetHooks(Hooks hooks) { hooks_ = std::move(hooks); }
  // Failure token reported instead of a close when the connection never got going.
  void SetFailureReason(std::string token) { failure_reason_ = std::move(token); }
  // The connection could not be set up: reported as a failure with this reason.
  void Fail(std::string token, const absl::Status& error) {
    failure_reason_ = std::move(token);
    if (first_error_.ok()) first_error_ = error;
  }
  bool finished() const { return closed_[0] && closed_[1]; }

 private:
  static Side Other(Side s) { return s == kDownstream ? kUpstream : kDownstream; }
  void Finish();

  ConnectionTelemetry* telemetry_;
  ConnectionRecord record_;
  Hooks hooks_;
  RelayLeg* legs_[2] = {nullptr, nullptr};
  RelayLeg* pending_[2] = {nullptr, nullptr};
  bool ever_attached_[2] = {false, false};
  bool closed_[2] = {false, false};
  // Read from a side before the other side was attached.
  std::string held_[2];
  bool held_end_[2] = {false, false};
  bool opened_ = false;
  bool reported_ = false;
  absl::Status first_error_;
  std::string failure_reason_ = "connect_failed";
};

}  // namespace weft::ztunnel
