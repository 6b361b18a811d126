// SPDX-License-Identifier: GPL-2.0
/* Outbound capture: connect() of enrolled pods to ztunnel's outbound listener, with
 * the original destination kept for SO_ORIGINAL_DST (IPv4: in a capture slot named by
 * the rewritten 127.1.x.y address; IPv6: on the socket). Logic lives in lib/capture_*.h;
 * maps and owners in lib/capture_maps.h; layouts in capture.h. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "capture.h"
#include "lib/capture_addr.h"
#include "lib/capture_connect.h"
#include "lib/capture_maps.h"
#include "lib/capture_orig_dst.h"
#include "lib/capture_sockops.h"

/* Attaches: cgroup/connect4 at the agent's cgroup root (bpf_link, pinned). */
SEC("cgroup/connect4")
int capture_connect4(struct bpf_sock_addr *ctx)
{
	struct capture_orig_dst dst = { .family = 4 };
	__u32 slot_addr = 0;
	__u16 port = 0;

	capture_addr_from_v4(dst.addr, ctx->user_ip4);
	dst.port = (__u16)ctx->user_port;
	switch (capture_decide(ctx, &dst, &port, &slot_addr)) {
	case CAPTURE_DENY:
		return 0;
	case CAPTURE_CAPTURE:
		ctx->user_ip4 = bpf_htonl(slot_addr);
		ctx->user_port = bpf_htons(port);
		return 1;
	default:
		return 1;
	}
}

/* Attaches: cgroup/connect6 at the agent's cgroup root (bpf_link, pinned). */
SEC("cgroup/connect6")
int capture_connect6(struct bpf_sock_addr *ctx)
{
	struct capture_orig_dst dst = { .family = 6 };
	__u32 slot_addr = 0;
	__u16 port = 0;

	dst.addr[0] = ctx->user_ip6[0];
	dst.addr[1] = ctx->user_ip6[1];
	dst.addr[2] = ctx->user_ip6[2];
	dst.addr[3] = ctx->user_ip6[3];
	dst.port = (__u16)ctx->user_port;
	if (capture_addr_is_v4_mapped(dst.addr))
		dst.family = 4;
	switch (capture_decide(ctx, &dst, &port, &slot_addr)) {
	case CAPTURE_DENY:
		return 0;
	case CAPTURE_CAPTURE:
		/* A v4-mapped destination travels as IPv4, to its slot's address: keep it
		 * mapped. */
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = dst.family == 4 ? bpf_htonl(0x0000ffff) : 0;
		ctx->user_ip6[3] = dst.family == 4 ? bpf_htonl(slot_addr) : bpf_htonl(1);
		ctx->user_port = bpf_htons(port);
		return 1;
	default:
		return 1;
	}
}

/* Attaches: sockops at the cgroup root, and at ztunnel's cgroup when outside it. */
SEC("sockops")
int capture_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		capture_on_active_established(skops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		capture_on_passive_established(skops);
		break;
	case BPF_SOCK_OPS_RTT_CB:
		capture_on_rtt(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		capture_on_state_change(skops);
		break;
	default:
		break;
	}
	return 1;
}

/* Attaches: cgroup/getsockopt at ztunnel's cgroup (default: the cgroup root). */
SEC("cgroup/getsockopt")
int capture_getsockopt(struct bpf_sockopt *ctx)
{
	if (ctx->optname != CAPTURE_SO_ORIGINAL_DST)
		return 1;
	if (ctx->level != CAPTURE_SOL_IP && ctx->level != CAPTURE_SOL_IPV6)
		return 1;
	return capture_answer_orig_dst(ctx);
}

char LICENSE[] SEC("license") = "GPL";
