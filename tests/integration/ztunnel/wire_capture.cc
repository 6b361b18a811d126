#include "tests/integration/ztunnel/wire_capture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"

namespace weft::ztunnel::testing {
namespace {

// Opens the packet socket from a thread that entered the namespace, so the test's other
// threads stay where they are; the socket keeps capturing in that namespace afterwards.
absl::StatusOr<int> OpenPacketSocket(const std::string& netns, const std::string& interface) {
  std::promise<absl::StatusOr<int>> result;
  std::thread opener([&] {
    int ns = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return result.set_value(ErrnoStatus(errno, "open", "/run/netns/" + netns));
    if (::setns(ns, CLONE_NEWNET) != 0) {
      int err = errno;
      ::close(ns);
      return result.set_value(ErrnoStatus(err, "setns", netns));
    }
    ::close(ns);
    unsigned index = ::if_nametoindex(interface.c_str());
    if (index == 0) return result.set_value(ErrnoStatus(errno, "if_nametoindex", interface));
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) return result.set_value(ErrnoStatus(errno, "socket", "AF_PACKET"));
    int buffer = 64 << 20;  // a 100 MiB burst must not overrun it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(index);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      int err = errno;
      ::close(fd);
      return result.set_value(ErrnoStatus(err, "bind", interface));
    }
    result.set_value(fd);
  });
  opener.join();
  return result.get_future().get();
}

}  // namespace

absl::StatusOr<std::unique_ptr<WireCapture>> WireCapture::Start(const std::string& netns,
                                                                const std::string& interface,
                                                                const std::string& pattern) {
  absl::StatusOr<int> fd = OpenPacketSocket(netns, interface);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<WireCapture> capture(new WireCapture(*fd, pattern));
  capture->thread_ = std::thread([raw = capture.get()] { raw->Run(); });
  return capture;
}

WireCapture::~WireCapture() {
  Stop();
  ::close(fd_);
}

WireSummary WireCapture::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return summary_;
}

void WireCapture::Run() {
  // veth frames may be GSO super-packets of up to 64 KiB.
  std::vector<unsigned char> frame(256 * 1024);
  // Keeps draining after stop_ until the socket is empty, so nothing sent is missed.
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, 100);
    if (ready == 0 && stop_) break;
    if (ready <= 0) continue;
    ssize_t n = ::recv(fd_, frame.data(), frame.size(), MSG_DONTWAIT);
    if (n > 0) Inspect(frame.data(), static_cast<size_t>(n));
  }
  tpacket_stats stats{};
  socklen_t len = sizeof(stats);
  if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0) {
    summary_.kernel_drops = stats.tp_drops;
  }
}

void WireCapture::Inspect(const unsigned char* frame, size_t size) {
  ++summary_.frames;
  summary_.bytes += size;
  std::string_view bytes(reinterpret_cast<const char*>(frame), size);
  if (bytes.find(pattern_) != std::string_view::npos) ++summary_.frames_with_pattern;
  constexpr size_t kEthernetHeader = 14;
  if (size < kEthernetHeader + 20) return;
  const uint16_t ethertype = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
  if (ethertype != ETH_P_IP) return;
  const unsigned char* ip = frame + kEthernetHeader;
  const size_t ip_header = static_cast<size_t>(ip[0] & 0x0f) * 4;
  if (ip[9] != IPPROTO_TCP || size < kEthernetHeader + ip_header + 4) return;
  const unsigned char* tcp = ip + ip_header;
  const uint16_t source_port = static_cast<uint16_t>(tcp[0] << 8 | tcp[1]);
  const uint16_t destination_port = static_cast<uint16_t>(tcp[2] << 8 | tcp[3]);
  if (source_port == 15008 || destination_port == 15008) ++summary_.tcp_frames_port_15008;
  if (destination_port == 8080) ++summary_.tcp_frames_dst_8080;
  if (source_port == 8080) ++summary_.tcp_frames_src_8080;
}

}  // namespace weft::ztunnel::testing
