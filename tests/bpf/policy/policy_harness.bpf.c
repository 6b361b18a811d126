// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "lib/policy_maps.h"
#include "lib/policy_lookup.h"
#include "policy_harness.h"

/* Attaches: nowhere; syscall program run only through BPF_PROG_TEST_RUN by the policy tests. */
SEC("syscall")
int policy_verdict(struct policy_harness_ctx *ctx)
{
	__u32 policy_id = 0;

	ctx->verdict = weft_policy_lookup(ctx->src_workload_id, ctx->family, ctx->dst_addr,
					  ctx->dst_port, &policy_id);
	ctx->policy_id = policy_id;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
