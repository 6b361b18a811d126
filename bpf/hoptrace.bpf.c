// SPDX-License-Identifier: GPL-2.0
/* Per-hop latency tracer: timestamps every TCP send and receive of the processes that
 * take part in a traced request (client app, ztunnels, server app), so userspace can
 * split one round trip into hops. Events of anybody else are dropped here.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hoptrace.h"

char LICENSE[] SEC("license") = "GPL";

/* Owner: HopTracer writes at start (tgid -> participants), both programs read. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HOPTRACE_MAX_TGIDS);
	__type(key, __u32);
	__type(value, struct hoptrace_match);
} hoptrace_tgids SEC(".maps");

/* Owner: HopTracer writes at start (cgroup id -> participants), both programs read. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HOPTRACE_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct hoptrace_match);
} hoptrace_cgroups SEC(".maps");

/* Owner: HopTracer writes at start (participant -> netns filter), both programs read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HOPTRACE_MAX_PARTICIPANTS);
	__type(key, __u32);
	__type(value, struct hoptrace_netns_filter);
} hoptrace_netns SEC(".maps");

/* Owner: both programs write, HopTracer's poll thread reads. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HOPTRACE_RINGBUF_BYTES);
} hoptrace_events SEC(".maps");

/* Events that matched a participant but found the ring buffer full; HopTracer reads. */
__u64 hoptrace_lost_events = 0;

/* The first participant whose tgid or cgroup matches the current task and whose netns
 * filter accepts `sk`; -1 for everybody else. Tgid first: a test process and its child
 * share a cgroup but not a tgid.
 */
static __always_inline int hoptrace_participant(struct sock *sk, __u32 tgid)
{
	struct hoptrace_match *by_tgid = bpf_map_lookup_elem(&hoptrace_tgids, &tgid);
	__u64 cgroup = bpf_get_current_cgroup_id();
	struct hoptrace_match *by_cgroup = bpf_map_lookup_elem(&hoptrace_cgroups, &cgroup);
	__u32 mask = 0;

	if (by_tgid)
		mask |= by_tgid->participant_mask;
	if (by_cgroup)
		mask |= by_cgroup->participant_mask;
	if (!mask)
		return -1;

	__u64 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	for (__u32 i = 0; i < HOPTRACE_MAX_PARTICIPANTS; i++) {
		if (!(mask & (1u << i)))
			continue;
		__u32 key = i;
		struct hoptrace_netns_filter *filter = bpf_map_lookup_elem(&hoptrace_netns, &key);
		if (!filter || filter->netns_inode == 0 || filter->netns_inode == netns)
			return i;
	}
	return -1;
}

static __always_inline void hoptrace_emit(struct sock *sk, __u8 direction, __u32 bytes)
{
	__u64 ts = bpf_ktime_get_ns();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	int participant = hoptrace_participant(sk, tgid);

	if (participant < 0)
		return;
	struct hoptrace_event *event = bpf_ringbuf_reserve(&hoptrace_events, sizeof(*event), 0);
	if (!event) {
		__sync_fetch_and_add(&hoptrace_lost_events, 1);
		return;
	}
	event->ts_ns = ts;
	event->sock_cookie = bpf_get_socket_cookie(sk);
	event->bytes = bytes;
	event->tgid = tgid;
	event->srtt_us = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3;
	event->participant = participant;
	event->direction = direction;
	event->reserved0[0] = 0;
	event->reserved0[1] = 0;
	/* No wakeup: the reader polls on a timer. A wakeup per event would put the reader
	 * on a CPU a dozen times per traced round trip, inflating what is measured.
	 */
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
}

/* write, writev, sendto, sendmsg, sendmmsg: the syscalls an app sends TCP data with. */
static __always_inline bool hoptrace_is_send_syscall(long id)
{
#if defined(__TARGET_ARCH_x86)
	return id == 1 || id == 20 || id == 44 || id == 46 || id == 307;
#elif defined(__TARGET_ARCH_arm64)
	return id == 64 || id == 66 || id == 206 || id == 211 || id == 269;
#else
	return false;
#endif
}

/* Why tracepoints and not fentry/fexit on tcp_sendmsg/tcp_recvmsg: this kernel (6.18,
 * lockdown=integrity, no kprobes) refuses to load fentry/fexit programs (EPERM before
 * verification), while BTF tracepoints load.
 */

/* Attaches: tp_btf/tcp_sendmsg_locked, before each segment's data is copied: the first
 * one of a send is its start (io_uring sends reach it too, from any thread).
 */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(hoptrace_send, const struct sock *sk, const struct msghdr *msg,
	     const struct sk_buff *skb, int size_goal)
{
	hoptrace_emit((struct sock *)sk, HOPTRACE_SEND, BPF_CORE_READ(msg, msg_iter.count));
	return 0;
}

/* Attaches: tp_btf/sys_enter. A send that the loopback short-circuit redirects (sk_msg
 * verdict into the peer's ingress queue) never reaches tcp_sendmsg_locked, so an app
 * talking to ztunnel over the SOCKHASH would have no send event at all. For participants
 * matched by tgid and without a netns filter (the apps), the entry of a send-family
 * syscall is their send: earlier than tcp_sendmsg_locked by the syscall entry only, and
 * collapsed with it when both fire. ztunnel (io_uring, netns-filtered) is not covered:
 * its sends into the short-circuit merge into the next hop.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(hoptrace_sys_enter, struct pt_regs *regs, long id)
{
	if (!hoptrace_is_send_syscall(id))
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct hoptrace_match *by_tgid = bpf_map_lookup_elem(&hoptrace_tgids, &tgid);

	if (!by_tgid)
		return 0;
	for (__u32 i = 0; i < HOPTRACE_MAX_PARTICIPANTS; i++) {
		if (!(by_tgid->participant_mask & (1u << i)))
			continue;
		__u32 key = i;
		struct hoptrace_netns_filter *filter = bpf_map_lookup_elem(&hoptrace_netns, &key);

		if (filter && filter->netns_inode != 0)
			continue;
		struct hoptrace_event *event =
			bpf_ringbuf_reserve(&hoptrace_events, sizeof(*event), 0);
		if (!event) {
			__sync_fetch_and_add(&hoptrace_lost_events, 1);
			return 0;
		}
		__builtin_memset(event, 0, sizeof(*event));
		event->ts_ns = bpf_ktime_get_ns();
		event->tgid = tgid;
		event->participant = i;
		event->direction = HOPTRACE_SEND;
		bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
		return 0;
	}
	return 0;
}

/* Attaches: tp_btf/sock_recv_length, when any socket recvmsg returns (io_uring too);
 * only TCP receives that returned data count.
 */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(hoptrace_recv, struct sock *sk, int ret, int flags)
{
	if (ret > 0 && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP)
		hoptrace_emit(sk, HOPTRACE_RECV, ret);
	return 0;
}
