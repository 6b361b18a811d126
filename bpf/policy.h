/* ABI of the in-kernel L4 policy maps (bpf/lib/policy_maps.h), shared by the
 * BPF C that looks verdicts up (bpf/lib/policy_lookup.h, called from connect4/6)
 * and the agent's compiler and writer (agent/bpf/policy/). Layouts only grow:
 * never reorder or drop a field, rename it reservedN instead.
 *
 * A connect() is decided with at most three hash lookups, whatever the number of
 * policies: destination address -> destination id, then the verdict for
 * {source workload, destination, port}, then the same with port 0 (every port
 * no applicable policy mentions). A miss anywhere is DEFER: the kernel does not
 * decide and ztunnel, authoritative, does (fail closed).
 */
#pragma once

#ifdef __cplusplus
#include <cstdint>
#define WP_U8 uint8_t
#define WP_U16 uint16_t
#define WP_U32 uint32_t
#else
#define WP_U8 __u8
#define WP_U16 __u16
#define WP_U32 __u32
#endif

#define WEFT_POLICY_ABI_VERSION 1

/* Map sizes; the compiler's default capacity. */
#define WEFT_POLICY_MAX_DST_V4 16384
#define WEFT_POLICY_MAX_DST_V6 16384
#define WEFT_POLICY_MAX_VERDICTS 131072

enum weft_policy_verdict {
	WEFT_POLICY_DEFER = 0, /* kernel does not decide; ztunnel does */
	WEFT_POLICY_ALLOW = 1,
	WEFT_POLICY_DENY = 2,
};

/* weft_policy_dst_value.flags */
enum weft_policy_dst_flags {
	/* No ALLOW/DENY policy applies to this destination: ALLOW without a verdict lookup. */
	WEFT_POLICY_DST_OPEN = 1,
};

/* Key of policy_dst_v4: the destination address as connect4 sees it (network order). */
struct weft_policy_dst_v4_key {
	WP_U32 addr;
};

/* Key of policy_dst_v6: the destination address, network order. */
struct weft_policy_dst_v6_key {
	WP_U32 addr[4];
};

/* Value of policy_dst_v4 and policy_dst_v6. */
struct weft_policy_dst_value {
	WP_U32 dst_id; /* never 0 */
	WP_U32 flags;  /* enum weft_policy_dst_flags */
};

/* Key of policy_verdicts. */
struct weft_policy_verdict_key {
	WP_U32 src_workload_id; /* the agent's id of the enrolled source pod */
	WP_U32 dst_id;
	WP_U16 dst_port;  /* host order; 0 = every port without its own entry */
	WP_U16 reserved0; /* must be 0 */
};

/* Value of policy_verdicts. */
struct weft_policy_verdict_value {
	WP_U8 verdict; /* enum weft_policy_verdict */
	WP_U8 reserved0[3];
	WP_U32 policy_id; /* 1 + index of the deciding policy in the snapshot, 0 = default */
};

#ifdef __cplusplus
static_assert(sizeof(weft_policy_dst_v4_key) == 4, "weft_policy_dst_v4_key layout");
static_assert(sizeof(weft_policy_dst_v6_key) == 16, "weft_policy_dst_v6_key layout");
static_assert(sizeof(weft_policy_dst_value) == 8, "weft_policy_dst_value layout");
static_assert(sizeof(weft_policy_verdict_key) == 12, "weft_policy_verdict_key layout");
static_assert(sizeof(weft_policy_verdict_value) == 8, "weft_policy_verdict_value layout");
#endif
