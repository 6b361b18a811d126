/* The in-kernel L4 policy verdict for a connection capture would send to ztunnel.
 *
 * connect4/connect6 ask for every connection they would capture, after all
 * exclusions. DENY makes the connect() fail with EPERM (the program returns 0),
 * counts capture_stats.denied and the (workload, policy) pair in
 * policy_deny_counts. ALLOW and DEFER both capture: the destination ztunnel stays
 * authoritative, the kernel only refuses early what it knows will be refused.
 */
#pragma once

#include "capture.h"
#include "lib/policy_maps.h"
#include "lib/policy_lookup.h"

enum capture_policy_verdict {
	CAPTURE_POLICY_NONE = 0, /* no in-kernel verdict: capture, ztunnel decides */
	CAPTURE_POLICY_ALLOW = 1,
	CAPTURE_POLICY_DENY = 2,
};

/* Owner: written by connect4/connect6 (one count per denied connect), read by the
 * agent for weft_workload_policy_denials_total. Entries for a (workload, policy)
 * pair that no longer exists are removed by the agent after each compile. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CAPTURE_MAX_POLICY_DENY_COUNTERS);
	__type(key, struct capture_policy_deny_key);
	__type(value, __u64);
} policy_deny_counts SEC(".maps");

static __always_inline void capture_count_policy_denial(__u32 workload_id, __u32 policy_id)
{
	struct capture_policy_deny_key key = { .workload_id = workload_id, .policy_id = policy_id };
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&policy_deny_counts, &key);
	if (count)
		*count += 1; /* per-CPU value: no atomics needed */
	else
		bpf_map_update_elem(&policy_deny_counts, &key, &one, BPF_NOEXIST);
}

/* dst: the original destination (v4-mapped for IPv4, port network order). */
static __always_inline enum capture_policy_verdict
capture_policy_verdict(const struct capture_workload *w, const struct capture_orig_dst *dst)
{
	__u32 policy_id = 0;
	__u32 verdict = weft_policy_lookup(w->workload_id, dst->family, dst->addr, dst->port,
					   &policy_id);

	if (verdict == WEFT_POLICY_DENY) {
		capture_count_policy_denial(w->workload_id, policy_id);
		return CAPTURE_POLICY_DENY;
	}
	return verdict == WEFT_POLICY_ALLOW ? CAPTURE_POLICY_ALLOW : CAPTURE_POLICY_NONE;
}
