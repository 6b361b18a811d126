/* Context of the policy harness program: the test writes the question, runs the
 * program with BPF_PROG_TEST_RUN, and reads the answer back from the same buffer.
 * The destination is in the form connect4/6 hand to the lookup (capture's
 * struct capture_orig_dst): v4-mapped addresses, port in network order.
 */
#pragma once

#ifdef __cplusplus
#include <cstdint>
#define PH_U16 uint16_t
#define PH_U32 uint32_t
#else
#define PH_U16 __u16
#define PH_U32 __u32
#endif

struct policy_harness_ctx {
	PH_U32 src_workload_id;
	PH_U32 family;     /* 4 or 6 */
	PH_U32 dst_addr[4]; /* network order; v4-mapped (::ffff:a.b.c.d) for IPv4 */
	PH_U16 dst_port;   /* network order */
	PH_U16 reserved0;
	PH_U32 verdict;   /* out: enum weft_policy_verdict */
	PH_U32 policy_id; /* out */
};

#ifdef __cplusplus
static_assert(sizeof(policy_harness_ctx) == 36, "policy_harness_ctx layout");
#endif
