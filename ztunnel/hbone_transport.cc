#include "ztunnel/hbone_transport.h"

#include "absl/strings/str_cat.h"

namespace weft::ztunnel {
namespace {

// The socket queue above which no more HTTP/2 output is taken (one batch at a time).
constexpr size_t kSendHighWater = 256 * 1024;

}  // namespace

HboneTransport::~HboneTransport() {
  // A session being destroyed closes its open streams through their legs: end the legs
  // first so that nothing reaches a relay twice, and free the session before the legs.
  OnTransportClosed(absl::CancelledError("HBONE connection destroyed"));
  h2_.reset();
  legs_.clear();
}

void HboneTransport::TransportReady(event::ConnectionId id) {
  id_ = id;
  transport_ready_ = true;
  Flush();
}

void HboneTransport::Flush() {
  if (transport_closed_) return;
  // HTTP/2 output is taken a batch at a time and only while the socket keeps up: a window
  // update releasing megabytes turns into a few small batches (cache-sized copies), and what
  // this connection holds stays bounded. OnTransportDrained resumes once the queue empties.
  for (;;) {
    if (transport_ready_ && loop_->PendingSendBytes(id_) >= kSendHighWater) {
      awaiting_drain_ = true;
      break;
    }
    std::string plain;
    if (h2_ == nullptr || h2_->TakeOutput(&plain, h2_->output_batch()) == 0) break;
    if (absl::Status s = tls_->WritePlaintext(plain); !s.ok()) {
      Abort(s);
      return;
    }
    if (!transport_ready_) continue;  // before the socket is up there is only a preface
    std::string cipher;
    if (tls_->TakeCiphertext(&cipher) > 0) (void)loop_->Send(id_, std::move(cipher));
  }
  if (!transport_ready_) return;
  std::string cipher;  // handshake messages, alerts
  if (tls_->TakeCiphertext(&cipher) > 0) (void)loop_->Send(id_, std::move(cipher));
  if (close_when_idle_ && legs_.empty() && h2_ != nullptr && !h2_->wants_output()) {
    (void)loop_->Close(id_);
  }
}

void HboneTransport::OnTransportDrained() {
  if (!awaiting_drain_) return;
  awaiting_drain_ = false;
  Flush();
}

absl::Status HboneTransport::OnTransportBytes(std::string_view data) {
  // Each decrypted record goes to HTTP/2 as it comes; the handshake completes before any.
  absl::Status status = tls_->OnCiphertext(data, [this](std::string_view plain) {
    NoteHandshake();
    return h2_->OnBytes(plain);
  });
  if (status.ok()) NoteHandshake();
  if (!status.ok()) {
    Abort(status);
  } else {
    Flush();
  }
  return status;
}

void HboneTransport::NoteHandshake() {
  if (handshake_seen_ || !tls_->handshake_complete()) return;
  handshake_seen_ = true;
  OnHandshakeDone();
}

void HboneTransport::Abort(const absl::Status& reason) {
  if (transport_closed_) return;
  // Send whatever alert or GOAWAY explains the failure before the reset.
  std::string plain;
  if (h2_ != nullptr && h2_->TakeOutput(&plain) > 0) (void)tls_->WritePlaintext(plain);
  std::string cipher;
  if (transport_ready_ && tls_->TakeCiphertext(&cipher) > 0) {
    (void)loop_->Send(id_, std::move(cipher));
    (void)loop_->Close(id_);
  } else {
    (void)loop_->Abort(id_, reason);
  }
  OnTransportClosed(reason);
}

void HboneTransport::OnTransportClosed(const absl::Status& reason) {
  if (transport_closed_) return;
  transport_closed_ = true;
  for (auto& [id, leg] : legs_) {
    leg->OnTransportLost(reason);
    released_.push_back(id);
  }
  if (!released_.empty()) ReleaseStream(released_.back());
}

void HboneTransport::ReleaseStream(int32_t stream_id) {
  released_.push_back(stream_id);
  if (free_posted_) return;
  free_posted_ = true;
  std::weak_ptr<int> alive = alive_;
  loop_->Post([this, alive] {
    if (alive.lock() != nullptr) FreeReleased();
  });
}

void HboneTransport::FreeReleased() {
  free_posted_ = false;
  // Once the transport is lost the session still holds every open stream's leg as its
  // StreamEvents and calls OnStreamClosed on them when it is destroyed: those legs must
  // live as long as the session (the destructor frees them after it).
  if (transport_closed_) {
    released_.clear();
    return;
  }
  for (int32_t id : released_) legs_.erase(id);
  released_.clear();
  if (legs_.empty()) {
    idle_since_ = std::chrono::steady_clock::now();
    if (close_when_idle_) Flush();
  }
}

void HboneTransport::Shutdown() {
  if (shutting_down_ || transport_closed_) return;
  shutting_down_ = true;
  if (h2_ == nullptr) return;
  if (!accepts_streams()) {
    // Our own connection: nothing more will be opened on it; close once its streams end.
    h2_->GoAway();
    close_when_idle_ = true;
    Flush();
    return;
  }
  // Streams the peer opened before it saw the notice are still served; a second after it,
  // the final GOAWAY names the last stream this side accepted.
  h2_->ShutdownNotice();
  Flush();
  std::weak_ptr<int> alive = alive_;
  loop_->AddTimer(std::chrono::seconds(1), [this, alive] {
    if (alive.lock() == nullptr || transport_closed_) return;
    h2_->GoAway();
    close_when_idle_ = true;
    Flush();
  });
}

}  // namespace weft::ztunnel
