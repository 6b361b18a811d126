// SPDX-License-Identifier: GPL-2.0
/* Attaches: tc (sched_cls); run only through BPF_PROG_TEST_RUN by the bpf tests. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "toolchain_probe.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP_NUM 6
#define TC_ACT_OK 0

/* Owner: written by classify, read by toolchain_test. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct tp_port_key);
	__type(value, __u64);
} port_hits SEC(".maps");

/* Owner: written by classify, read by toolchain_test. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TP_VERDICT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline void count_verdict(__u32 verdict)
{
	__u64 *v = bpf_map_lookup_elem(&verdicts, &verdict);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void count_port(__u16 port, __u16 family)
{
	struct tp_port_key key = { .port = port, .family = family };
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&port_hits, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&port_hits, &key, &one, BPF_NOEXIST);
	count_verdict(TP_TCP);
}

SEC("tc")
int classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;

	if ((void *)(eth + 1) > end) {
		count_verdict(TP_MALFORMED);
		return TC_ACT_OK;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5) {
			count_verdict(TP_MALFORMED);
			return TC_ACT_OK;
		}
		if (ip->protocol != IPPROTO_TCP_NUM) {
			count_verdict(TP_NOT_TCP);
			return TC_ACT_OK;
		}
		tcp = (void *)ip + ip->ihl * 4;
		if ((void *)(tcp + 1) > end) {
			count_verdict(TP_MALFORMED);
			return TC_ACT_OK;
		}
		count_port(bpf_ntohs(tcp->dest), 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end) {
			count_verdict(TP_MALFORMED);
			return TC_ACT_OK;
		}
		if (ip6->nexthdr != IPPROTO_TCP_NUM) {
			count_verdict(TP_NOT_TCP);
			return TC_ACT_OK;
		}
		tcp = (void *)(ip6 + 1);
		if ((void *)(tcp + 1) > end) {
			count_verdict(TP_MALFORMED);
			return TC_ACT_OK;
		}
		count_port(bpf_ntohs(tcp->dest), 6);
	} else {
		count_verdict(TP_NOT_TCP);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
