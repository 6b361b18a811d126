/* Per-workload counters and log2 histograms (workload_stats). Per-CPU slots, so
 * plain increments: a lost update when a softirq sockops callback preempts a
 * connect() on the same CPU is an accepted inaccuracy of a statistics counter. */
#pragma once

#include "capture.h"
#include "lib/capture_maps.h"

enum capture_counter {
	CAPTURE_COUNT_CAPTURED,
	CAPTURE_COUNT_PASSED,
	CAPTURE_COUNT_DENIED,
	CAPTURE_COUNT_ERRORS,
};

static __always_inline struct capture_stats *capture_stats_of(__u32 workload_id)
{
	return bpf_map_lookup_elem(&workload_stats, &workload_id);
}

static __always_inline void capture_count(__u32 workload_id, enum capture_counter c)
{
	struct capture_stats *s = capture_stats_of(workload_id);

	if (!s)
		return;
	switch (c) {
	case CAPTURE_COUNT_CAPTURED:
		s->captured++;
		break;
	case CAPTURE_COUNT_PASSED:
		s->passed++;
		break;
	case CAPTURE_COUNT_DENIED:
		s->denied++;
		break;
	case CAPTURE_COUNT_ERRORS:
		s->errors++;
		break;
	}
}

/* floor(log2(v)) by binary search: six unrolled steps, no data-dependent loop. */
static __always_inline __u32 capture_log2(__u64 v)
{
	__u32 r = 0;
	int i;

#pragma unroll
	for (i = 5; i >= 0; i--) {
		__u32 shift = 1U << i;

		if (v >> shift) {
			v >>= shift;
			r += shift;
		}
	}
	return r;
}

static __always_inline __u32 capture_hist_bucket(__u64 v)
{
	__u32 b = capture_log2(v);

	if (b >= CAPTURE_HIST_BUCKETS)
		b = CAPTURE_HIST_BUCKETS - 1;
	return b & (CAPTURE_HIST_BUCKETS - 1);
}

static __always_inline void capture_record_connect_latency(__u32 workload_id, __u64 ns)
{
	struct capture_stats *s = capture_stats_of(workload_id);

	if (s)
		s->connect_latency_ns[capture_hist_bucket(ns)]++;
}

static __always_inline void capture_record_srtt(__u32 workload_id, __u64 us)
{
	struct capture_stats *s = capture_stats_of(workload_id);

	if (s)
		s->srtt_us[capture_hist_bucket(us)]++;
}
