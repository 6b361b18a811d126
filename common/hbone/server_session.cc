#include "common/hbone/server_session.h"

#include <nghttp2/nghttp2.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace weft::hbone {

absl::StatusOr<std::unique_ptr<ServerSession>> ServerSession::Create(const SessionOptions& options,
                                                                     RequestHandler handler) {
  if (!handler) return absl::InvalidArgumentError("ServerSession needs a RequestHandler");
  std::unique_ptr<ServerSession> session(new ServerSession(options, std::move(handler)));
  if (absl::Status status = session->Init(/*is_server=*/true); !status.ok()) return status;
  return session;
}

void ServerSession::OnHeaderBlockStart(int32_t stream_id, bool is_request) {
  if (!is_request) return;  // trailers: a tunnel has no use for them
  Stream& stream = AddStream(stream_id, /*events=*/nullptr);
  stream.hold_inbound = true;
  stream.request_parser = std::make_unique<RequestHeaderParser>();
}

void ServerSession::OnHeaderField(int32_t stream_id, std::string_view name,
                                  std::string_view value) {
  Stream* stream = FindStream(stream_id);
  if (stream != nullptr && stream->request_parser != nullptr) {
    stream->request_parser->AddField(name, value);
  }
}

void ServerSession::OnHeaderBlockEnd(int32_t stream_id, bool end_stream) {
  (void)end_stream;  // OnPeerEndStream records it; it is delivered with the held data
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || stream->request_parser == nullptr) return;
  std::unique_ptr<RequestHeaderParser> parser = std::move(stream->request_parser);
  switch (parser->Finish()) {
    case RequestHeaderParser::Verdict::kMalformed:
      ResetStream(stream_id, NGHTTP2_PROTOCOL_ERROR);
      return;
    case RequestHeaderParser::Verdict::kReject:
      (void)SubmitResponse(stream_id, *stream, parser->reject_status());
      return;
    case RequestHeaderParser::Verdict::kConnect:
      break;
  }
  StreamEvents* events = handler_(stream_id, parser->request());
  stream = FindStream(stream_id);  // the handler may have answered already
  if (stream == nullptr) return;
  if (events == nullptr) {
    if (!stream->response_seen) (void)SubmitResponse(stream_id, *stream, 503);
    return;
  }
  stream->events = events;
  if (stream->response_seen && stream->data_provider_attached) ReleaseHeldInbound(stream_id);
}

absl::Status ServerSession::Respond(int32_t stream_id, int status) {
  if (failed()) return error();
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr) return absl::NotFoundError(absl::StrCat("no HBONE stream ", stream_id));
  if (stream->response_seen) {
    return absl::FailedPreconditionError(
        absl::StrCat("HBONE stream ", stream_id, " already answered"));
  }
  if (status < 200 || status > 599) {
    return absl::InvalidArgumentError(absl::StrCat("bad HBONE response status ", status));
  }
  if (absl::Status submitted = SubmitResponse(stream_id, *stream, status); !submitted.ok()) {
    return submitted;
  }
  // Inside the handler `events` is not known yet; OnHeaderBlockEnd releases the data then.
  if (status == 200 && stream->events != nullptr) ReleaseHeldInbound(stream_id);
  return absl::OkStatus();
}

absl::Status ServerSession::SubmitResponse(int32_t stream_id, Stream& stream, int status) {
  const std::string status_text = std::to_string(status);
  nghttp2_nv field{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(":status")),
                   const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(status_text.data())), 7,
                   status_text.size(), NGHTTP2_NV_FLAG_NONE};
  stream.response_seen = true;
  int rv;
  if (status == 200) {
    nghttp2_data_provider provider{};
    FillDataProvider(&provider);
    rv = nghttp2_submit_response(ng(), stream_id, &field, 1, &provider);
    stream.data_provider_attached = true;
  } else {
    // END_STREAM on the HEADERS, then RST_STREAM(NO_ERROR) so the client stops sending too
    // (RFC 9113 §8.1). The reset waits until the HEADERS is out: nghttp2 queues response
    // HEADERS behind RST_STREAM, and a reset first would swallow the answer.
    rv = nghttp2_submit_response(ng(), stream_id, &field, 1, nullptr);
    stream.reset_after_headers = true;
    stream.hold_inbound = false;
    stream.discard_inbound = true;
    stream.held_inbound.clear();
  }
  if (rv != 0) {
    return absl::InternalError(absl::StrCat("HBONE response: ", nghttp2_strerror(rv)));
  }
  return absl::OkStatus();
}

}  // namespace weft::hbone
