// SPDX-License-Identifier: GPL-2.0
/* Loopback short-circuit: established loopback TCP sockets of enrolled pod netns are
 * put into a SOCKHASH, and every send on them is handed to the peer socket's receive
 * queue, skipping the TCP/IP stack between an application and ztunnel.
 */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "shortcircuit.h"
#include "lib/inbound_shortcircuit.h"

/* Owner: agent writes (LoopbackShortCircuit::Enroll), shortcircuit_sockops reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHORTCIRCUIT_MAX_NETNS);
	__type(key, __u64);
	__type(value, __u32);
} shortcircuit_netns SEC(".maps");

/* Owner: shortcircuit_sockops writes, shortcircuit_msg reads, the kernel removes a
 * socket when it closes, the agent empties it when the short-circuit is disabled.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SHORTCIRCUIT_MAX_SOCKS);
	__type(key, struct shortcircuit_sock_key);
	__type(value, __u64);
} shortcircuit_socks SEC(".maps");

/* Owner: both programs increment, agent reads (LoopbackShortCircuit::Stats). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHORTCIRCUIT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} shortcircuit_stats SEC(".maps");

/* Attaches: cgroup/sock_ops at the agent's cgroup root, bpf_link (multi-attach). */
SEC("sockops")
int shortcircuit_sockops(struct bpf_sock_ops *skops)
{
	struct shortcircuit_sock_key key;
	__u64 cookie;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	cookie = bpf_get_netns_cookie(skops);
	if (!bpf_map_lookup_elem(&shortcircuit_netns, &cookie))
		return 1;
	if (!sc_key_from_sockops(skops, cookie, &key) || !sc_key_is_loopback(&key))
		return 1;
	if (bpf_sock_hash_update(skops, &shortcircuit_socks, &key, BPF_ANY) == 0)
		sc_count(&shortcircuit_stats, SHORTCIRCUIT_STAT_ADDED);
	else
		sc_count(&shortcircuit_stats, SHORTCIRCUIT_STAT_ADD_FAILED);
	return 1;
}

/* Attaches: sk_msg verdict of the shortcircuit_socks SOCKHASH (bpf_prog_attach). */
SEC("sk_msg")
int shortcircuit_msg(struct sk_msg_md *msg)
{
	struct shortcircuit_sock_key peer;

	if (!sc_peer_key_from_msg(msg, bpf_get_netns_cookie(msg), &peer))
		return SK_PASS;
	/* A failed redirect leaves the message untouched, so it still goes out over TCP:
	 * a peer that is not in the map (it connected before we were attached) still works.
	 */
	if (bpf_msg_redirect_hash(msg, &shortcircuit_socks, &peer, BPF_F_INGRESS) == SK_PASS)
		sc_count(&shortcircuit_stats, SHORTCIRCUIT_STAT_REDIRECTED);
	else
		sc_count(&shortcircuit_stats, SHORTCIRCUIT_STAT_NO_PEER);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
