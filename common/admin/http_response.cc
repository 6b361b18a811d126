#include "common/admin/http_response.h"

#include "absl/strings/str_cat.h"

namespace weft::admin {

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Json(std::string body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

const char* HttpReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string SerializeHttpResponse(const HttpResponse& response, bool keep_alive, bool head_only) {
  std::string out =
      absl::StrCat("HTTP/1.1 ", response.status, " ", HttpReasonPhrase(response.status), "\r\n",
                   "Content-Type: ", response.content_type, "\r\n",
                   "Content-Length: ", response.body.size(), "\r\n", "Cache-Control: no-store\r\n",
                   "Connection: ", keep_alive ? "keep-alive" : "close", "\r\n");
  if (!response.allow.empty()) absl::StrAppend(&out, "Allow: ", response.allow, "\r\n");
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

}  // namespace weft::admin
