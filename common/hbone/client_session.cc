#include "common/hbone/client_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace weft::hbone {
namespace {

nghttp2_nv Field(std::string_view name, std::string_view value) {
  return nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
                    const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

absl::Status RefusalStatus(int status) {
  std::string message = absl::StrCat("HBONE CONNECT refused with HTTP ", status);
  if (status == 403) return absl::PermissionDeniedError(message);
  if (status == 503) return absl::UnavailableError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClientSession>> ClientSession::Create(
    const SessionOptions& options) {
  std::unique_ptr<ClientSession> session(new ClientSession(options));
  if (absl::Status status = session->Init(/*is_server=*/false); !status.ok()) return status;
  return session;
}

bool ClientSession::can_open_stream() const {
  if (failed() || goaway_received() || goaway_sent()) return false;
  // Before the server's SETTINGS arrive nghttp2 assumes 100, a safe guess.
  uint32_t peer_limit =
      nghttp2_session_get_remote_settings(ng(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return open_streams() < std::min(peer_limit, options().max_concurrent_streams);
}

absl::StatusOr<int32_t> ClientSession::OpenStream(const ConnectRequest& request,
                                                  StreamEvents* events) {
  if (failed()) return error();
  if (events == nullptr) return absl::InvalidArgumentError("OpenStream needs StreamEvents");
  if (!can_open_stream()) {
    return absl::ResourceExhaustedError(goaway_received()
                                            ? "HBONE session is going away"
                                            : "HBONE session is at its concurrent stream limit");
  }
  if (request.authority.empty()) return absl::InvalidArgumentError("CONNECT needs an authority");
  std::vector<nghttp2_nv> fields = {Field(":method", "CONNECT"),
                                    Field(":authority", request.authority)};
  if (!request.forwarded.empty()) fields.push_back(Field("forwarded", request.forwarded));
  if (!request.traceparent.empty()) fields.push_back(Field("traceparent", request.traceparent));
  for (const auto& [name, value] : request.extra_headers) {
    if (name.starts_with(':') || !IsValidHeaderField(name, value) ||
        IsConnectionSpecificHeader(name, value)) {
      return absl::InvalidArgumentError(absl::StrCat("bad extra HBONE header '", name, "'"));
    }
    fields.push_back(Field(name, value));
  }
  for (const nghttp2_nv& field : fields) {
    if (!IsValidHeaderField({reinterpret_cast<const char*>(field.name), field.namelen},
                            {reinterpret_cast<const char*>(field.value), field.valuelen})) {
      return absl::InvalidArgumentError("HBONE request header has forbidden bytes");
    }
  }
  nghttp2_data_provider provider{};
  FillDataProvider(&provider);
  int32_t stream_id =
      nghttp2_submit_request(ng(), nullptr, fields.data(), fields.size(), &provider, nullptr);
  if (stream_id < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("HBONE CONNECT not submitted: ", nghttp2_strerror(stream_id)));
  }
  AddStream(stream_id, events).data_provider_attached = true;
  return stream_id;
}

void ClientSession::OnHeaderBlockStart(int32_t stream_id, bool is_request) {
  (void)is_request;
  Stream* stream = FindStream(stream_id);
  if (stream != nullptr && !stream->response_seen) stream->response_status = 0;
}

void ClientSession::OnHeaderField(int32_t stream_id, std::string_view name,
                                  std::string_view value) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || stream->response_seen || name != ":status") return;
  int status = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), status);
  stream->response_status =
      (ec == std::errc() && end == value.data() + value.size() && value.size() == 3) ? status : -1;
}

void ClientSession::OnHeaderBlockEnd(int32_t stream_id, bool end_stream) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || stream->response_seen) return;  // trailers carry nothing for a tunnel
  const int status = stream->response_status;
  if (status < 100 || status > 599) {
    ResetStream(stream_id, NGHTTP2_PROTOCOL_ERROR);  // no usable :status: malformed (§8.1.1)
    return;
  }
  if (status < 200) return;  // informational; the final response follows
  stream->response_seen = true;
  if (status / 100 != 2) {
    stream->refused = RefusalStatus(status);
    stream->discard_inbound = true;
    // The tunnel will not open: stop our half too, whatever the server does next.
    ResetStream(stream_id, end_stream ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
  }
  stream->events->OnResponse(stream_id, status);
}

}  // namespace weft::hbone
