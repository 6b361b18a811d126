#include "ztunnel/pod_registry.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "ztunnel/netns_socket.h"

namespace weft::ztunnel {
namespace {

using nodeapi::NetnsChannelClient;
using nodeapi::PodNetnsMessage;

// How long an ADD waits for the config and certificate it needs before it is refused.
constexpr absl::Duration kServableWait = absl::Seconds(2);

bool IsV6(const std::string& address) { return address.find(':') != std::string::npos; }

}  // namespace

NetnsChannelClient::Outcome PodRegistry::OnMessage(const PodNetnsMessage& message,
                                                   event::ScopedFd netns_fd) {
  switch (message.kind()) {
    case PodNetnsMessage::ADD:
      return Add(message, std::move(netns_fd));
    case PodNetnsMessage::REMOVE:
      Remove(message.workload_uid());
      return {};
    case PodNetnsMessage::SNAPSHOT_DONE: {
      std::vector<std::string> stale;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [uid, pod] : pods_) {
          if (!pod.confirmed) stale.push_back(uid);
        }
        synced_ = true;
      }
      for (const std::string& uid : stale) {
        log::Info("pod not in the agent's resync; closing it", {{"workload", uid}});
        Remove(uid);
      }
      return {};
    }
    default:
      return {absl::StrCat("unknown message kind ", message.kind()), {}};
  }
}

void PodRegistry::BeginResync() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [uid, pod] : pods_) pod.confirmed = false;
  synced_ = false;
}

NetnsChannelClient::Outcome PodRegistry::Acknowledge(const Pod& pod) {
  NetnsChannelClient::Outcome outcome;
  for (const auto& [family, fd] : pod.inbound_listeners) {
    outcome.listeners.emplace_back(family, fd.get());
  }
  return outcome;
}

NetnsChannelClient::Outcome PodRegistry::Add(const PodNetnsMessage& message,
                                             event::ScopedFd netns_fd) {
  const std::string& uid = message.workload_uid();
  // The agent offers pods as soon as its config enrolls them: our config stream may not have
  // delivered that version yet, nor the certificate manager the pod's identity. A pod
  // acknowledged before then would be captured into connections that fail. Refusing makes
  // the agent offer the pod again.
  if (absl::Status ready = shared_->AwaitServable(uid, kServableWait); !ready.ok()) {
    return {std::string(ready.message()), {}};
  }
  struct stat st {};
  if (::fstat(netns_fd.get(), &st) != 0) return {"cannot stat the netns fd", {}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(uid);
    if (it != pods_.end() && it->second.context->netns_inode == st.st_ino) {
      it->second.confirmed = true;  // a resync of a pod we serve: keep its connections
      return Acknowledge(it->second);
    }
  }
  auto context = std::make_shared<PodContext>();
  context->uid = uid;
  context->addresses.assign(message.addresses().begin(), message.addresses().end());
  context->netns = std::make_shared<event::ScopedFd>(std::move(netns_fd));
  context->netns_inode = st.st_ino;
  if (absl::Status s = EnableListenerMigration(context->netns->get()); !s.ok()) {
    // Only a ztunnel handover loses by it (queued connections reset): go on.
    log::Warn("cannot enable listener migration in the pod's netns",
              {{"workload", uid}, {"error", s}});
  }
  const bool has_v6 = std::any_of(context->addresses.begin(), context->addresses.end(), IsV6);

  // Every worker gets its own socket of each address (one SO_REUSEPORT group per address).
  struct Spec {
    ListenerKind kind;
    std::string ip;
    uint16_t port;
    bool required;
  };
  // Outbound on 0.0.0.0: capture rewrites each IPv4 connect to its capture slot's own
  // 127.1.x.y address (bpf/capture.h); anything not on loopback is refused at accept.
  std::vector<Spec> specs = {{ListenerKind::kOutbound, "0.0.0.0", ports_.outbound, true},
                             {ListenerKind::kOutbound, "::1", ports_.outbound, false},
                             {ListenerKind::kInboundPlaintext, "127.0.0.1",
                              ports_.inbound_plaintext, true}};
  if (has_v6) specs.push_back({ListenerKind::kInboundPlaintext, "::1", ports_.inbound_plaintext, true});
  for (const std::string& a : context->addresses) {
    specs.push_back({ListenerKind::kHbone, a, ports_.hbone, true});
  }
  std::vector<std::vector<PodListenerFd>> per_worker(workers_.size());
  Pod pod;
  pod.context = context;
  for (const Spec& spec : specs) {
    absl::StatusOr<event::SocketAddress> address = event::SocketAddress::FromIp(spec.ip, spec.port);
    if (!address.ok()) return {std::string(address.status().message()), {}};
    for (size_t w = 0; w < workers_.size(); ++w) {
      absl::StatusOr<event::ScopedFd> fd =
          ListenerInNetns(context->netns->get(), *address, ports_.backlog);
      if (!fd.ok()) {
        if (!spec.required) break;  // e.g. no IPv6 loopback in this pod
        return {absl::StrCat("pod ", uid, ": ", fd.status().message()), {}};
      }
      if (w == 0 && spec.kind == ListenerKind::kInboundPlaintext) {
        event::ScopedFd copy(::fcntl(fd->get(), F_DUPFD_CLOEXEC, 0));
        pod.inbound_listeners.emplace_back(address->family(), std::move(copy));
      }
      per_worker[w].push_back(PodListenerFd{spec.kind, *std::move(fd)});
    }
  }
  auto shared_lists = std::make_shared<std::vector<std::vector<PodListenerFd>>>(std::move(per_worker));
  OnEveryWorker([context, shared_lists](Worker& worker) {
    worker.AddPod(context, std::move((*shared_lists)[worker.index()]));
  });
  log::Info("pod listeners open",
            {{"workload", uid},
             {"addresses", static_cast<unsigned long long>(context->addresses.size())},
             {"workers", static_cast<unsigned long long>(workers_.size())}});
  std::lock_guard<std::mutex> lock(mu_);
  Pod& stored = pods_[uid];
  stored = std::move(pod);
  return Acknowledge(stored);
}

void PodRegistry::Remove(const std::string& uid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pods_.erase(uid) == 0) return;  // unknown: may predate a restart, not an error
  }
  OnEveryWorker([uid](Worker& worker) { worker.RemovePod(uid); });
  log::Info("pod listeners closed", {{"workload", uid}});
}

void PodRegistry::RemoveAll() {
  for (const std::string& uid : Pods()) Remove(uid);
}

void PodRegistry::OnEveryWorker(const std::function<void(Worker&)>& task) {
  std::vector<std::future<void>> done;
  for (Worker* worker : workers_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    worker->loop().Post([worker, task, promise] {
      task(*worker);
      promise->set_value();
    });
  }
  for (auto& f : done) {
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      log::Error("a worker did not answer within 5 s", {});
    }
  }
}

std::vector<std::string> PodRegistry::Pods() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [uid, pod] : pods_) out.push_back(uid);
  return out;
}

bool PodRegistry::synced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

}  // namespace weft::ztunnel
