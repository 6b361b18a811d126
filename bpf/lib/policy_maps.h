/* The in-kernel L4 policy maps (ABI in bpf/policy.h). Include once per BPF
 * object: the object that includes it (capture.bpf.c in the product, the policy
 * harness in tests) owns the maps. Hash maps without preallocation: sized for a
 * large node, paid for only by the entries a snapshot compiles to.
 */
#pragma once

#include <bpf/bpf_helpers.h>

#include "policy.h"

/* Owner: written by the agent's PolicyMapWriter (agent/bpf/policy/), read by
 * weft_policy_lookup() in connect4. Destination address -> destination id.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_POLICY_MAX_DST_V4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_policy_dst_v4_key);
	__type(value, struct weft_policy_dst_value);
} policy_dst_v4 SEC(".maps");

/* Owner: written by the agent's PolicyMapWriter, read by weft_policy_lookup()
 * in connect6. Destination address -> destination id.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_POLICY_MAX_DST_V6);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_policy_dst_v6_key);
	__type(value, struct weft_policy_dst_value);
} policy_dst_v6 SEC(".maps");

/* Owner: written by the agent's PolicyMapWriter, read by weft_policy_lookup()
 * in connect4/6. {source workload, destination, port} -> verdict.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_POLICY_MAX_VERDICTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_policy_verdict_key);
	__type(value, struct weft_policy_verdict_value);
} policy_verdicts SEC(".maps");
