#include "agent/enrollment/pod_netns_discovery.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/host/netns.h"
#include "common/log/logger.h"
#include "common/status/errno_status.h"


namespace weft::agent {
namespace {

std::shared_ptr<int> ShareFd(int fd) {
  return std::shared_ptr<int>(new int(fd), [](int* p) {
    close(*p);
    delete p;
  });
}

uint64_t NetnsInodeOfPid(const std::string& pid) {
  struct stat st;
  if (stat(("/proc/" + pid + "/ns/net").c_str(), &st) != 0) return 0;  // exited meanwhile
  return st.st_ino;
}

// Runs inside the target netns (the calling thread only).
absl::StatusOr<PodNetns> InspectCurrentNetns() {
  PodNetns out;
  absl::StatusOr<uint64_t> cookie = host::CurrentNetnsCookie();
  if (!cookie.ok()) return cookie.status();
  out.cookie = *cookie;
  struct ifaddrs* addrs = nullptr;
  if (getifaddrs(&addrs) != 0) return ErrnoStatus(errno, "getifaddrs in pod netns");
  for (struct ifaddrs* a = addrs; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_LOOPBACK)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                sizeof(text));
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) continue;
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    } else {
      continue;
    }
    out.addresses.emplace_back(text);
  }
  freeifaddrs(addrs);
  return out;
}

}  // namespace

std::vector<uint16_t> LoopbackListeners(const std::string& pid) {
  // Lines: "sl local_address rem_address st ..." with hex "ADDR:PORT"; st 0A = LISTEN.
  // 127.0.0.1 prints as 0100007F (host byte order), ::1 as 32 hex digits ending in 01000000;
  // the wildcards (0.0.0.0, ::) serve loopback too, and only they serve the 127.1.x.y
  // addresses capture sends IPv4 connects to (ztunnel's outbound listener is 0.0.0.0).
  std::vector<uint16_t> ports;
  for (const char* file : {"tcp", "tcp6"}) {
    std::ifstream in("/proc/" + pid + "/net/" + file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      if (!(fields >> slot >> local >> remote >> state) || state != "0A") continue;
      size_t colon = local.find(':');
      if (colon == std::string::npos) continue;
      std::string addr = local.substr(0, colon);
      bool loopback = addr == "0100007F" || addr == "00000000000000000000000001000000" ||
                      addr == "00000000" || addr == std::string(32, '0');
      if (!loopback) continue;
      ports.push_back(static_cast<uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16)));
    }
  }
  return ports;
}

absl::StatusOr<PodNetns> InspectNetns(int netns_fd) {
  absl::StatusOr<PodNetns> result = absl::InternalError("not run");
  absl::Status entered = host::RunInNetns(netns_fd, [&] { result = InspectCurrentNetns(); });
  if (!entered.ok()) return entered;
  return result;
}

absl::StatusOr<std::map<uint64_t, PodNetns>> PodNetnsDiscovery::Scan() {
  std::error_code ec;
  if (!std::filesystem::is_directory(cgroup_root_, ec)) {
    return absl::NotFoundError(absl::StrCat("cgroup root ", cgroup_root_, " does not exist"));
  }
  const uint64_t own = NetnsInodeOfPid("self");
  const uint64_t host = NetnsInodeOfPid("1");
  std::map<uint64_t, PodNetns> found;
  auto visit = [&](const std::filesystem::path& dir) {
    std::ifstream procs(dir / "cgroup.procs");
    std::string pid;
    while (procs >> pid) {
      uint64_t inode = NetnsInodeOfPid(pid);
      if (inode == 0 || inode == own || inode == host || found.count(inode)) continue;
      if (auto it = known_.find(inode); it != known_.end()) {
        PodNetns ns = it->second;
        ns.pid = pid;
        found.emplace(inode, std::move(ns));
        continue;
      }
      int fd = open(("/proc/" + pid + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;  // the process exited between stat and open
      std::shared_ptr<int> shared = ShareFd(fd);
      absl::StatusOr<PodNetns> ns = InspectNetns(fd);
      if (!ns.ok()) {
        log::Warn("cannot inspect a pod netns; will retry",
                  {{"cgroup", dir.string()}, {"pid", pid}, {"error", ns.status()}});
        continue;
      }
      ns->inode = inode;
      ns->cgroup = dir.string();
      ns->fd = std::move(shared);
      ns->pid = pid;
      found.emplace(inode, *std::move(ns));
    }
  };
  visit(cgroup_root_);
  for (auto it = std::filesystem::recursive_directory_iterator(cgroup_root_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) visit(it->path());
  }
  known_ = found;
  return found;
}

}  // namespace weft::agent
