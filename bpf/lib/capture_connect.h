/* The connect() decision shared by cgroup/connect4 and cgroup/connect6: is this an
 * enrolled netns, is the destination excluded, does policy refuse it, and if it is
 * captured, remember the original destination: an IPv4 one in the next capture slot
 * (the rewritten address names the slot), an IPv6 one on the socket. */
#pragma once

#include "capture.h"
#include "lib/capture_addr.h"
#include "lib/capture_maps.h"
#include "lib/capture_policy.h"
#include "lib/capture_stats.h"

enum capture_decision {
	CAPTURE_IGNORE,  /* not ours: not TCP or netns not enrolled; nothing counted */
	CAPTURE_PASS,    /* enrolled, excluded destination: leave connect() alone */
	CAPTURE_CAPTURE, /* rewrite to the outbound listener */
	CAPTURE_DENY,    /* fail connect() with EPERM */
};

enum capture_exclusion {
	CAPTURE_NOT_EXCLUDED,
	CAPTURE_EXCLUDED,
};

static __always_inline enum capture_exclusion capture_is_excluded(const struct capture_workload *w,
					       const struct capture_settings *settings,
					       struct bpf_sock_addr *ctx,
					       const struct capture_orig_dst *dst)
{
	__u32 port = bpf_ntohs(dst->port), zero = 0;
	struct bpf_sock *sk = ctx->sk;

	if (sk && settings->ztunnel_mark && sk->mark == settings->ztunnel_mark)
		return CAPTURE_EXCLUDED;
	if (dst->family == 4) {
		struct capture_cidr4_key ck = { .prefixlen = 32, .addr = dst->addr[3] };

		if (capture_v4_is_local(dst->addr[3]))
			return CAPTURE_EXCLUDED;
		if ((w->flags & CAPTURE_WORKLOAD_HAS_IPV4) && w->pod_ipv4 == dst->addr[3])
			return CAPTURE_EXCLUDED;
		if ((settings->flags & CAPTURE_SETTINGS_EXCLUDED_CIDRS4) &&
		    bpf_map_lookup_elem(&excluded_cidrs4, &ck))
			return CAPTURE_EXCLUDED;
	} else {
		struct capture_cidr6_key ck = { .prefixlen = 128 };

		if (capture_v6_is_local(dst->addr))
			return CAPTURE_EXCLUDED;
		if ((w->flags & CAPTURE_WORKLOAD_HAS_IPV6) && capture_v6_equal(dst->addr, w->pod_ipv6))
			return CAPTURE_EXCLUDED;
		__builtin_memcpy(ck.addr, dst->addr, sizeof(ck.addr));
		if ((settings->flags & CAPTURE_SETTINGS_EXCLUDED_CIDRS6) &&
		    bpf_map_lookup_elem(&excluded_cidrs6, &ck))
			return CAPTURE_EXCLUDED;
	}
	if (settings->flags & CAPTURE_SETTINGS_EXCLUDED_PORTS) {
		const struct capture_port_set *ports = bpf_map_lookup_elem(&excluded_ports, &zero);

		if (ports && (ports->words[(port >> 6) & (CAPTURE_PORT_WORDS - 1)] >> (port & 63)) & 1)
			return CAPTURE_EXCLUDED;
	}
	return CAPTURE_NOT_EXCLUDED;
}

/* Takes the next capture slot for a captured IPv4 connect and fills it in. Returns the
 * loopback address (host order) that names the slot, 0 if the maps are unusable. */
static __always_inline __u32 capture_take_slot(const struct capture_orig_dst *dst, __u64 cookie)
{
	struct capture_slot *slot;
	__u32 zero = 0, index;
	__u64 *seq;

	seq = bpf_map_lookup_elem(&capture_slot_seq, &zero);
	if (!seq)
		return 0;
	index = (__u32)__sync_fetch_and_add(seq, 1) & (CAPTURE_SLOT_COUNT - 1);
	slot = bpf_map_lookup_elem(&capture_slots, &index);
	if (!slot)
		return 0;
	slot->dst = *dst;
	slot->netns_cookie = cookie;
	slot->client_port = 0;
	return CAPTURE_SLOT_NET | index;
}

/* Decides for one connect(); on CAPTURE_CAPTURE the caller rewrites the address to
 * *port_out on loopback: *slot_addr_out (host order) for IPv4, ::1 for IPv6. Captured
 * IPv4 connects leave their original destination in a capture slot, captured IPv6 ones
 * in a sock_state for sockops to publish; nothing else needs per-socket state (sockops
 * times every handshake from TCP's own RTT sample). */
static __always_inline enum capture_decision capture_decide(struct bpf_sock_addr *ctx,
							    struct capture_orig_dst *dst,
							    __u16 *port_out, __u32 *slot_addr_out)
{
	const struct capture_settings *settings;
	const struct capture_workload *w;
	struct capture_sock_state *st;
	__u32 zero = 0;
	__u64 cookie;

	if (ctx->type != CAPTURE_SOCK_STREAM || ctx->protocol != IPPROTO_TCP)
		return CAPTURE_IGNORE;
	cookie = bpf_get_netns_cookie(ctx);
	w = bpf_map_lookup_elem(&enrolled_netns, &cookie);
	if (!w)
		return CAPTURE_IGNORE;
	settings = bpf_map_lookup_elem(&capture_settings, &zero);
	if (!settings || settings->layout_version != CAPTURE_LAYOUT_VERSION)
		return CAPTURE_IGNORE;
	dst->workload_id = w->workload_id;

	if (capture_is_excluded(w, settings, ctx, dst) != CAPTURE_NOT_EXCLUDED) {
		capture_count(w->workload_id, CAPTURE_COUNT_PASSED);
		return CAPTURE_PASS;
	}
	if (capture_policy_verdict(w, dst) == CAPTURE_POLICY_DENY) {
		capture_count(w->workload_id, CAPTURE_COUNT_DENIED);
		return CAPTURE_DENY;
	}

	if (dst->family == 4) {
		*slot_addr_out = capture_take_slot(dst, cookie);
		if (!*slot_addr_out) {
			capture_count(w->workload_id, CAPTURE_COUNT_ERRORS);
			return CAPTURE_PASS;
		}
	} else {
		st = bpf_sk_storage_get(&sock_state, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st) {
			/* Without storage ztunnel could not learn the destination: do not
			 * capture. */
			capture_count(w->workload_id, CAPTURE_COUNT_ERRORS);
			return CAPTURE_PASS;
		}
		st->netns_cookie = cookie;
		st->workload_id = w->workload_id;
		st->dst = *dst;
		st->flags = CAPTURE_SOCK_CAPTURED;
	}
	capture_count(w->workload_id, CAPTURE_COUNT_CAPTURED);
	*port_out = settings->outbound_port;
	return CAPTURE_CAPTURE;
}
