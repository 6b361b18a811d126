/* getsockopt side of capture: answer SO_ORIGINAL_DST (SOL_IP, struct sockaddr_in)
 * and IP6T_SO_ORIGINAL_DST (SOL_IPV6, struct sockaddr_in6) on a socket accepted by
 * the outbound listener: from the capture slot its local address names (IPv4), else
 * from the copy sockops left on that socket, else from orig_dst keyed by the socket's
 * peer (a listener outside sockops' cgroups). */
#pragma once

#include "capture.h"
#include "lib/capture_addr.h"
#include "lib/capture_maps.h"

static __always_inline const struct capture_orig_dst *
capture_lookup_orig_dst(struct bpf_sockopt *ctx)
{
	struct capture_conn_key key = {};
	struct bpf_sock *sk = ctx->sk;
	struct capture_sock_state *st;
	__u32 index;

	if (!sk)
		return 0;
	if (sk->family == CAPTURE_AF_INET && capture_slot_of_addr(sk->src_ip4, &index)) {
		const struct capture_slot *slot = bpf_map_lookup_elem(&capture_slots, &index);

		/* Believed only for the connection that took it: same netns, and the
		 * client port its handshake recorded (0, never a peer's, until then).
		 * Otherwise no answer (fail closed). */
		if (!slot || slot->client_port != (__u64)sk->dst_port ||
		    slot->netns_cookie != bpf_get_netns_cookie(ctx))
			return 0;
		return &slot->dst;
	}
	st = bpf_sk_storage_get(&sock_state, sk, 0, 0);
	if (st && (st->flags & CAPTURE_SOCK_ACCEPTED))
		return &st->dst;
	key.netns_cookie = bpf_get_netns_cookie(ctx);
	if (sk->family == CAPTURE_AF_INET) {
		capture_addr_from_v4(key.addr, sk->dst_ip4);
	} else if (sk->family == CAPTURE_AF_INET6) {
		key.addr[0] = sk->dst_ip6[0];
		key.addr[1] = sk->dst_ip6[1];
		key.addr[2] = sk->dst_ip6[2];
		key.addr[3] = sk->dst_ip6[3];
	} else {
		return 0;
	}
	key.port = sk->dst_port;
	return bpf_map_lookup_elem(&orig_dst, &key);
}

/* Returns 1 (the getsockopt verdict "proceed") in every case; only a found entry
 * that fits the caller's buffer changes optval, optlen and retval. */
static __always_inline int capture_answer_orig_dst(struct bpf_sockopt *ctx)
{
	const struct capture_orig_dst *dst = capture_lookup_orig_dst(ctx);

	if (!dst)
		return 1;
	if (ctx->level == CAPTURE_SOL_IP) {
		struct sockaddr_in *sin = ctx->optval;

		if (dst->family != 4 || (void *)(sin + 1) > ctx->optval_end)
			return 1;
		__builtin_memset(sin, 0, sizeof(*sin));
		sin->sin_family = CAPTURE_AF_INET;
		sin->sin_port = dst->port;
		sin->sin_addr.s_addr = dst->addr[3];
		ctx->optlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = ctx->optval;

		if ((void *)(sin6 + 1) > ctx->optval_end)
			return 1;
		__builtin_memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = CAPTURE_AF_INET6;
		sin6->sin6_port = dst->port;
		sin6->sin6_addr.in6_u.u6_addr32[0] = dst->addr[0];
		sin6->sin6_addr.in6_u.u6_addr32[1] = dst->addr[1];
		sin6->sin6_addr.in6_u.u6_addr32[2] = dst->addr[2];
		sin6->sin6_addr.in6_u.u6_addr32[3] = dst->addr[3];
		ctx->optlen = sizeof(*sin6);
	}
	ctx->retval = 0;
	return 1;
}
