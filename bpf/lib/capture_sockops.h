/* sockops side of capture: when a client socket of an enrolled netns establishes
 * (pod-internal loopback aside), record how long its handshake took; for a captured
 * IPv4 one, put its port into its capture slot (getsockopt checks it); for a captured
 * IPv6 one, publish its original destination in orig_dst under the client's address,
 * and delete it again when that socket reaches TCP_CLOSE; when the outbound listener's
 * end of an IPv6 capture establishes, keep a copy on that socket for getsockopt. */
#pragma once

#include "capture.h"
#include "lib/capture_addr.h"
#include "lib/capture_maps.h"
#include "lib/capture_stats.h"

/* How long the handshake took, from TCP's own clock rather than a clock read in every
 * connect() (on a VM, bpf_ktime_get_ns was ~50 ns of the hook's cost): the first RTT
 * sample (SYN -> SYN-ACK; TCP keeps srtt_us <<3 and never below 1 us), plus the SYN
 * backoff when the SYN went out n + 1 times: (2^n - 1) s from the kernel's 1 s initial
 * RTO. At ACTIVE_ESTABLISHED no data has been sent, so total_retrans counts SYNs. */
static __always_inline __u64 capture_handshake_ns(struct bpf_sock_ops *skops)
{
	__u32 srtt_us = *(volatile __u32 *)&skops->srtt_us;
	__u32 syn_retransmits = *(volatile __u32 *)&skops->total_retrans;
	__u64 ns = (__u64)(srtt_us >> 3) * 1000;

	if (syn_retransmits > 0 && syn_retransmits < 16)
		ns += ((1ULL << syn_retransmits) - 1) * 1000000000ULL;
	return ns;
}

static __always_inline struct capture_sock_state *capture_sock_state_of(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	if (!sk)
		return 0;
	return bpf_sk_storage_get(&sock_state, sk, 0, 0);
}

/* Reads an active socket's remote address once, v4-mapped for IPv4 (and for a
 * dual-stack socket talking IPv4). Returns 4 or 6, 0 for another family. Volatile
 * reads: clang would otherwise pick context fields through a computed offset, which
 * the verifier refuses. */
static __always_inline int capture_remote_of(struct bpf_sock_ops *skops, __u32 *r)
{
	__u32 family = *(volatile __u32 *)&skops->family;
	__u32 remote4 = *(volatile __u32 *)&skops->remote_ip4;

	r[0] = *(volatile __u32 *)&skops->remote_ip6[0];
	r[1] = *(volatile __u32 *)&skops->remote_ip6[1];
	r[2] = *(volatile __u32 *)&skops->remote_ip6[2];
	r[3] = *(volatile __u32 *)&skops->remote_ip6[3];
	if (family == CAPTURE_AF_INET) {
		capture_addr_from_v4(r, remote4);
		return 4;
	}
	if (family != CAPTURE_AF_INET6)
		return 0;
	return capture_addr_is_v4_mapped(r) ? 4 : 6;
}

/* The capture slot a client socket connected to (remote `remote4` = 127.1.x.y on the
 * outbound port, same netns as the connect that took it), or 0. */
static __always_inline struct capture_slot *capture_slot_of_client(struct bpf_sock_ops *skops,
								   __u32 remote4)
{
	const struct capture_settings *settings;
	struct capture_slot *slot;
	__u32 zero = 0, index;

	if (!capture_slot_of_addr(remote4, &index))
		return 0;
	settings = bpf_map_lookup_elem(&capture_settings, &zero);
	/* remote_port holds the network-order port in its upper 16 bits. */
	if (!settings || (__u16)(skops->remote_port >> 16) != bpf_htons(settings->outbound_port))
		return 0;
	slot = bpf_map_lookup_elem(&capture_slots, &index);
	if (!slot || slot->netns_cookie != bpf_get_netns_cookie(skops))
		return 0;
	return slot;
}

/* A client socket established: time its handshake if it belongs to an enrolled netns
 * and is not pod-internal loopback (a captured one: its slot or its sock_state says
 * whose it is; any other: its netns), claim its capture slot, and for a captured IPv6
 * one publish the original destination. */
static __always_inline void capture_on_active_established(struct bpf_sock_ops *skops)
{
	struct capture_sock_state *st = capture_sock_state_of(skops);
	int flags = BPF_SOCK_OPS_RTT_CB_FLAG;

	if (!st) {
		const struct capture_workload *w;
		struct capture_slot *slot;
		__u32 remote[4];
		__u64 cookie;
		int family = capture_remote_of(skops, remote);

		if (family == 0)
			return;
		if (family == 4 ? capture_v4_is_local(remote[3]) : capture_v6_is_local(remote)) {
			slot = family == 4 ? capture_slot_of_client(skops, remote[3]) : 0;
			if (!slot)
				return;
			/* First claim wins: a socket dialling the address by hand later
			 * (loopback, so not captured) takes over neither the slot's answer
			 * nor its timing. */
			if (__sync_val_compare_and_swap(&slot->client_port, 0,
							(__u64)bpf_htons((__u16)skops->local_port)) != 0)
				return;
			capture_record_connect_latency(slot->dst.workload_id,
						       capture_handshake_ns(skops));
		} else {
			cookie = bpf_get_netns_cookie(skops);
			w = bpf_map_lookup_elem(&enrolled_netns, &cookie);
			if (!w)
				return;
			capture_record_connect_latency(w->workload_id, capture_handshake_ns(skops));
		}
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | flags);
		return;
	}
	capture_record_connect_latency(st->workload_id, capture_handshake_ns(skops));
	if (st->flags & CAPTURE_SOCK_CAPTURED) {
		struct capture_conn_key *key = &st->key;

		key->netns_cookie = st->netns_cookie;
		if (skops->family == CAPTURE_AF_INET) {
			capture_addr_from_v4(key->addr, skops->local_ip4);
		} else {
			key->addr[0] = skops->local_ip6[0];
			key->addr[1] = skops->local_ip6[1];
			key->addr[2] = skops->local_ip6[2];
			key->addr[3] = skops->local_ip6[3];
		}
		key->port = bpf_htons((__u16)skops->local_port);
		if (bpf_map_update_elem(&orig_dst, key, &st->dst, BPF_ANY) == 0) {
			st->flags |= CAPTURE_SOCK_KEY_SET;
			flags |= BPF_SOCK_OPS_STATE_CB_FLAG;
		}
	}
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | flags);
}

static __always_inline void capture_on_state_change(struct bpf_sock_ops *skops)
{
	struct capture_sock_state *st;

	if (skops->args[1] != BPF_TCP_CLOSE)
		return;
	st = capture_sock_state_of(skops);
	if (!st || !(st->flags & CAPTURE_SOCK_KEY_SET))
		return;
	bpf_map_delete_elem(&orig_dst, &st->key);
	st->flags &= ~CAPTURE_SOCK_KEY_SET;
}

static __always_inline void capture_on_rtt(struct bpf_sock_ops *skops)
{
	struct capture_sock_state *st = capture_sock_state_of(skops);
	const struct capture_workload *w;
	__u64 cookie;

	/* srtt_us is kept <<3 by TCP. */
	if (st) {
		capture_record_srtt(st->workload_id, skops->srtt_us >> 3);
		return;
	}
	/* A captured IPv4 socket has no storage: its netns names the workload. */
	cookie = bpf_get_netns_cookie(skops);
	w = bpf_map_lookup_elem(&enrolled_netns, &cookie);
	if (w)
		capture_record_srtt(w->workload_id, skops->srtt_us >> 3);
}

/* The accepted end of a captured connection (local port = the outbound port). Its
 * handshake completes before the client can send anything, so the client socket
 * and its orig_dst entry certainly exist now; a copy on this socket keeps the
 * answer for ztunnel even when the client closes before ztunnel gets to accept()
 * (an orphaned client reaches TCP_CLOSE and drops its entry). */
static __always_inline void capture_on_passive_established(struct bpf_sock_ops *skops)
{
	const struct capture_settings *settings;
	const struct capture_orig_dst *dst;
	struct capture_conn_key key = {};
	struct capture_sock_state *st;
	struct bpf_sock *sk = skops->sk;
	__u32 zero = 0, index;

	if (!sk)
		return;
	settings = bpf_map_lookup_elem(&capture_settings, &zero);
	if (!settings || skops->local_port != settings->outbound_port)
		return;
	/* A slot address: getsockopt answers from the slot itself. */
	if (skops->family == CAPTURE_AF_INET && capture_slot_of_addr(skops->local_ip4, &index))
		return;
	key.netns_cookie = bpf_get_netns_cookie(skops);
	if (skops->family == CAPTURE_AF_INET) {
		capture_addr_from_v4(key.addr, skops->remote_ip4);
	} else {
		key.addr[0] = skops->remote_ip6[0];
		key.addr[1] = skops->remote_ip6[1];
		key.addr[2] = skops->remote_ip6[2];
		key.addr[3] = skops->remote_ip6[3];
	}
	/* remote_port holds the network-order port in its upper 16 bits. */
	key.port = (__u16)(skops->remote_port >> 16);
	dst = bpf_map_lookup_elem(&orig_dst, &key);
	if (!dst)
		return;
	st = bpf_sk_storage_get(&sock_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return;
	st->dst = *dst;
	st->workload_id = dst->workload_id;
	st->flags = CAPTURE_SOCK_ACCEPTED;
}
