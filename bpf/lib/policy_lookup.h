/* L4 policy verdict for an outbound connect(), from the maps of
 * bpf/lib/policy_maps.h (include that first). At most three hash lookups. The
 * verdict is an early refusal only: DEFER leaves the decision to ztunnel.
 */
#pragma once

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "policy.h"

static __always_inline __u32
weft_policy_verdict_for(__u32 src_workload_id, const struct weft_policy_dst_value *dst,
			__u16 dst_port, __u32 *policy_id)
{
	struct weft_policy_verdict_key key = {
		.src_workload_id = src_workload_id,
		.dst_id = dst->dst_id,
		.dst_port = dst_port,
	};
	struct weft_policy_verdict_value *v;

	*policy_id = 0;
	if (dst->flags & WEFT_POLICY_DST_OPEN)
		return WEFT_POLICY_ALLOW;
	v = bpf_map_lookup_elem(&policy_verdicts, &key);
	if (!v && dst_port != 0) {
		/* Ports no applicable policy mentions share the port-0 entry. */
		key.dst_port = 0;
		v = bpf_map_lookup_elem(&policy_verdicts, &key);
	}
	if (!v)
		return WEFT_POLICY_DEFER;
	*policy_id = v->policy_id;
	return v->verdict;
}

/* dst_addr_be: destination IPv4 address in network order (ctx->user_ip4);
 * dst_port: host order. Returns enum weft_policy_verdict; *policy_id is the
 * deciding policy (for per-policy deny counters), 0 if none.
 */
static __always_inline __u32
weft_policy_lookup_v4(__u32 src_workload_id, __u32 dst_addr_be, __u16 dst_port, __u32 *policy_id)
{
	struct weft_policy_dst_v4_key key = { .addr = dst_addr_be };
	struct weft_policy_dst_value *dst;

	*policy_id = 0;
	dst = bpf_map_lookup_elem(&policy_dst_v4, &key);
	if (!dst)
		return WEFT_POLICY_DEFER; /* not a mesh workload: a VIP or outside the mesh */
	return weft_policy_verdict_for(src_workload_id, dst, dst_port, policy_id);
}

/* dst_addr_be: the four words of ctx->user_ip6 (network order); dst_port: host order. */
static __always_inline __u32
weft_policy_lookup_v6(__u32 src_workload_id, const __u32 dst_addr_be[4], __u16 dst_port,
		      __u32 *policy_id)
{
	struct weft_policy_dst_v6_key key = {
		.addr = { dst_addr_be[0], dst_addr_be[1], dst_addr_be[2], dst_addr_be[3] },
	};
	struct weft_policy_dst_value *dst;

	*policy_id = 0;
	dst = bpf_map_lookup_elem(&policy_dst_v6, &key);
	if (!dst)
		return WEFT_POLICY_DEFER;
	return weft_policy_verdict_for(src_workload_id, dst, dst_port, policy_id);
}

/* The form capture's seam holds (struct capture_orig_dst): family 4 or 6,
 * dst_addr v4-mapped for IPv4 (::ffff:a.b.c.d), dst_port_be network order.
 */
static __always_inline __u32
weft_policy_lookup(__u32 src_workload_id, __u16 family, const __u32 dst_addr[4], __u16 dst_port_be,
		   __u32 *policy_id)
{
	if (family == 4)
		return weft_policy_lookup_v4(src_workload_id, dst_addr[3], bpf_ntohs(dst_port_be),
					     policy_id);
	return weft_policy_lookup_v6(src_workload_id, dst_addr, bpf_ntohs(dst_port_be), policy_id);
}
