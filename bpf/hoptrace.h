/* ABI of the per-hop latency tracer (hoptrace.bpf.c): which processes take part in a
 * traced request, and the send/receive events the kernel reports for them. Shared by
 * the BPF C and the C++ loader (bench/hoptrace/hop_tracer.cc). Layouts only grow.
 */
#pragma once

#ifdef __cplusplus
#include <linux/types.h>
#endif

#define HOPTRACE_MAX_PARTICIPANTS 8
#define HOPTRACE_MAX_TGIDS 1024
#define HOPTRACE_MAX_CGROUPS 64
/* Large enough for ~1 s of a saturated run between two polls of the reader. */
#define HOPTRACE_RINGBUF_BYTES (4 << 20)

enum hoptrace_direction {
	HOPTRACE_SEND = 0, /* tcp_sendmsg_locked tracepoint: a send starts */
	HOPTRACE_RECV = 1, /* sock_recv_length tracepoint: data was handed to the reader */
};

/* Value of hoptrace_tgids and hoptrace_cgroups: bit i set = participant i may match.
 * A cgroup shared by two participants (one ztunnel serving both pods of a one-node
 * path) is told apart by the participants' netns filters.
 */
struct hoptrace_match {
	__u32 participant_mask;
	__u32 reserved0;
};

/* Value of hoptrace_netns[i]: participant i only sees sockets of this network
 * namespace (its nsfs inode number); 0 = any namespace.
 */
struct hoptrace_netns_filter {
	__u64 netns_inode;
};

/* One record of hoptrace_events. */
struct hoptrace_event {
	__u64 ts_ns;	   /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 sock_cookie; /* bpf_get_socket_cookie of the socket */
	__u32 bytes;	   /* send: size asked for; recv: bytes returned */
	__u32 tgid;
	__u32 srtt_us;	   /* the socket's smoothed RTT (tcp_sock.srtt_us >> 3) */
	__u8 participant;  /* index into the loader's participant list */
	__u8 direction;	   /* enum hoptrace_direction */
	__u8 reserved0[2];
};

#ifdef __cplusplus
static_assert(sizeof(hoptrace_match) == 8, "hoptrace_match layout");
static_assert(sizeof(hoptrace_netns_filter) == 8, "hoptrace_netns_filter layout");
static_assert(sizeof(hoptrace_event) == 32, "hoptrace_event layout");
#endif
