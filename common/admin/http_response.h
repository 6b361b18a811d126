// An admin endpoint's answer and its HTTP/1.1 wire form.
#pragma once

#include <string>

namespace weft::admin {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // sent as Allow: on 405

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(std::string body);
};

// Status line, Content-Type, Content-Length, Connection, Cache-Control: no-store (admin
// answers describe the present), then the body unless `head_only` (HEAD requests).
std::string SerializeHttpResponse(const HttpResponse& response, bool keep_alive,
                                  bool head_only = false);

const char* HttpReasonPhrase(int status);

}  // namespace weft::admin
