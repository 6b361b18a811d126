// Runs the toolchain probe program with BPF_PROG_TEST_RUN on crafted packets and
// reads its maps through the generated skeleton.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>

#include <cstring>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "tests/bpf/toolchain_probe.h"
#include "toolchain_probe.skel.h"

namespace {

struct SkeletonDeleter {
  void operator()(toolchain_probe* s) const { toolchain_probe::destroy(s); }
};
using Skeleton = std::unique_ptr<toolchain_probe, SkeletonDeleter>;

std::vector<uint8_t> TcpPacket(int family, uint16_t dport, size_t truncate_to = 0) {
  std::vector<uint8_t> pkt(sizeof(ethhdr));
  auto* eth = reinterpret_cast<ethhdr*>(pkt.data());
  eth->h_proto = htons(family == 4 ? ETH_P_IP : ETH_P_IPV6);
  tcphdr tcp{};
  tcp.dest = htons(dport);
  tcp.source = htons(40000);
  tcp.doff = 5;
  if (family == 4) {
    iphdr ip{};
    ip.version = 4;
    ip.ihl = 5;
    ip.protocol = IPPROTO_TCP;
    ip.tot_len = htons(sizeof(ip) + sizeof(tcp));
    pkt.insert(pkt.end(), reinterpret_cast<uint8_t*>(&ip), reinterpret_cast<uint8_t*>(&ip + 1));
  } else {
    ip6_hdr ip6{};
    ip6.ip6_vfc = 0x60;
    ip6.ip6_nxt = IPPROTO_TCP;
    ip6.ip6_plen = htons(sizeof(tcp));
    pkt.insert(pkt.end(), reinterpret_cast<uint8_t*>(&ip6), reinterpret_cast<uint8_t*>(&ip6 + 1));
  }
  pkt.insert(pkt.end(), reinterpret_cast<uint8_t*>(&tcp), reinterpret_cast<uint8_t*>(&tcp + 1));
  if (truncate_to != 0) pkt.resize(truncate_to);
  return pkt;
}

class ToolchainProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skel_.reset(toolchain_probe::open_and_load());
    ASSERT_NE(skel_, nullptr) << "loading the probe program failed: " << std::strerror(errno);
  }

  void Run(std::vector<uint8_t> pkt) {
    // Test runs need at least an Ethernet header's worth of input.
    if (pkt.size() < ETH_HLEN) pkt.resize(ETH_HLEN);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(), .data_size_in = static_cast<__u32>(pkt.size()),
                .repeat = 1);
    ASSERT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.classify), &opts), 0)
        << std::strerror(errno);
    EXPECT_EQ(opts.retval, 0u);
  }

  uint64_t PortHits(uint16_t port, uint16_t family) {
    tp_port_key key{};
    key.port = port;
    key.family = family;
    uint64_t value = 0;
    if (bpf_map__lookup_elem(skel_->maps.port_hits, &key, sizeof(key), &value, sizeof(value), 0) !=
        0) {
      return 0;
    }
    return value;
  }

  uint64_t Verdict(uint32_t v) {
    uint64_t value = 0;
    EXPECT_EQ(bpf_map__lookup_elem(skel_->maps.verdicts, &v, sizeof(v), &value, sizeof(value), 0),
              0);
    return value;
  }

  Skeleton skel_;
};

TEST_F(ToolchainProbeTest, CountsTcpByPortAndFamily) {
  Run(TcpPacket(4, 8080));
  Run(TcpPacket(4, 8080));
  Run(TcpPacket(6, 15008));
  EXPECT_EQ(PortHits(8080, 4), 2u);
  EXPECT_EQ(PortHits(15008, 6), 1u);
  EXPECT_EQ(PortHits(8080, 6), 0u);
  EXPECT_EQ(Verdict(TP_TCP), 3u);
  EXPECT_EQ(Verdict(TP_MALFORMED), 0u);
}

TEST_F(ToolchainProbeTest, TruncatedPacketsAreMalformedNotCounted) {
  Run(TcpPacket(4, 8080, sizeof(ethhdr) + sizeof(iphdr) + 4));
  // The kernel refuses IPv6 test input shorter than the IPv6 header, so cut into TCP.
  Run(TcpPacket(6, 443, sizeof(ethhdr) + sizeof(ip6_hdr) + 10));
  EXPECT_EQ(Verdict(TP_MALFORMED), 2u);
  EXPECT_EQ(Verdict(TP_TCP), 0u);
  EXPECT_EQ(PortHits(8080, 4), 0u);
}

TEST_F(ToolchainProbeTest, NonTcpIsPassedAndCounted) {
  std::vector<uint8_t> arp(64, 0);
  reinterpret_cast<ethhdr*>(arp.data())->h_proto = htons(ETH_P_ARP);
  Run(arp);
  EXPECT_EQ(Verdict(TP_NOT_TCP), 1u);
}

}  // namespace
