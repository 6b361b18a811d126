#include "tests/unit/grpcwire/scripted_node_api.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/time/clock.h"

namespace weft::grpcwire_testing {
namespace {

using weft::nodeapi::v1::ConfigAck;
using weft::nodeapi::v1::ConfigUpdate;

std::string MakeTempDir() {
  char pattern[] = "/tmp/grpcwire-test-XXXXXX";
  const char* dir = mkdtemp(pattern);
  return dir == nullptr ? std::string("/tmp") : std::string(dir);
}

}  // namespace

grpc::Status ScriptedNodeApi::IssueCertificate(grpc::ServerContext* context,
                                               const weft::nodeapi::v1::CertificateRequest* request,
                                               weft::nodeapi::v1::CertificateResponse* response) {
  const std::string& identity = request->identity();
  if (identity == "deny") return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, kDenyMessage);
  if (identity == "slow") {
    while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ++cancelled_calls_;
    return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  if (identity.starts_with("big:")) {
    response->add_cert_chain_pem(std::string(std::stoul(identity.substr(4)), 'c'));
    return grpc::Status::OK;
  }
  response->add_cert_chain_pem("chain for " + identity + " ttl " +
                               std::to_string(request->ttl_seconds()));
  return grpc::Status::OK;
}

grpc::Status ScriptedNodeApi::StreamConfig(
    grpc::ServerContext* context, grpc::ServerReaderWriter<ConfigUpdate, ConfigAck>* stream) {
  for (uint64_t version = 1; version <= 3; ++version) {
    ConfigUpdate update;
    update.set_version(version);
    update.set_agent_epoch("epoch-1");
    stream->Write(update);
  }
  ConfigAck ack;
  grpc::Status result = grpc::Status::OK;
  while (stream->Read(&ack)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      acked_versions_.push_back(ack.version());
    }
    if (ack.error() == "fail") {
      result = grpc::Status(grpc::StatusCode::ABORTED, "told to fail");
      break;
    }
    ConfigUpdate reply;
    reply.set_version(ack.version() + 100);
    stream->Write(reply);
  }
  if (context->IsCancelled()) ++cancelled_calls_;
  ++ended_streams_;
  return result;
}

std::vector<uint64_t> ScriptedNodeApi::acked_versions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_versions_;
}

ScriptedServer::ScriptedServer() : dir_(MakeTempDir()), socket_path_(dir_ + "/node-api.sock") {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path_, grpc::InsecureServerCredentials());
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
}

void ScriptedServer::Shutdown() {
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
}

ScriptedServer::~ScriptedServer() {
  Shutdown();
  std::filesystem::remove_all(dir_);
}

JunkServer::JunkServer(std::string reply)
    : dir_(MakeTempDir()), socket_path_(dir_ + "/junk.sock"), reply_(std::move(reply)) {
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof(addr.sun_path) - 1);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 8) != 0) {
    // The test then sees a connect error: no junk server, no junk.
    close(listen_fd_);
    listen_fd_ = -1;
  }
  thread_ = std::thread([this] {
    while (!stopping_.load()) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 20) <= 0) continue;
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      (void)!write(fd, reply_.data(), reply_.size());
      accepted_.push_back(fd);
    }
  });
}

JunkServer::~JunkServer() {
  stopping_ = true;
  thread_.join();
  for (int fd : accepted_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  std::filesystem::remove_all(dir_);
}

bool WaitUntil(const std::function<bool()>& condition) {
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (absl::Now() < until) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return condition();
}

}  // namespace weft::grpcwire_testing
