// SPDX-License-Identifier: GPL-2.0
/* Inbound capture for enrolled pods: plaintext TCP to a pod address goes to ztunnel's
 * 15006 listener (PERMISSIVE) or is dropped (STRICT). HBONE (15008), excluded ports,
 * other addresses and connections from inside the pod itself are left alone.
 */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "inbound.h"
#include "lib/inbound_addr.h"

/* Owner: agent writes (InboundSteering::SetMode), inbound_lookup reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INBOUND_MAX_NETNS);
	__type(key, __u64);
	__type(value, struct inbound_netns_config);
} inbound_netns SEC(".maps");

/* Owner: agent writes (InboundSteering::AddPodAddress), inbound_lookup reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INBOUND_MAX_ADDRS);
	__type(key, struct inbound_addr_key);
	__type(value, struct inbound_addr_value);
} inbound_addrs SEC(".maps");

/* Owner: agent writes (InboundSteering::ExcludePort), inbound_lookup reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INBOUND_MAX_PORTS);
	__type(key, struct inbound_port_key);
	__type(value, __u32);
} inbound_ports SEC(".maps");

/* Owner: agent writes the listener fd ztunnel hands over
 * (InboundSteering::RegisterListener), inbound_lookup reads; the kernel removes an
 * entry when its socket closes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 2 * INBOUND_MAX_NETNS);
	__type(key, struct inbound_listener_key);
	__type(value, __u64);
} inbound_listeners SEC(".maps");

/* Owner: agent creates and deletes one entry per netns (Attach/Detach),
 * inbound_lookup increments, agent reads (InboundSteering::Counters).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, INBOUND_MAX_NETNS);
	__type(key, __u64);
	__type(value, struct inbound_counters);
} inbound_stats SEC(".maps");

/* Attaches: sk_lookup, one bpf_link per enrolled pod netns (bpf_program__attach_netns). */
SEC("sk_lookup")
int inbound_lookup(struct bpf_sk_lookup *ctx)
{
	struct inbound_listener_key lkey = {};
	struct inbound_port_key pkey = {};
	struct inbound_addr_value *pod, *src;
	struct inbound_netns_config *cfg;
	struct inbound_counters *cnt;
	struct inbound_addr_key akey;
	struct bpf_sock *sk;
	__u64 cookie;
	long err;

	if (ctx->protocol != INBOUND_IPPROTO_TCP)
		return SK_PASS;
	inbound_local_addr_key(ctx, &akey);
	pod = bpf_map_lookup_elem(&inbound_addrs, &akey);
	if (!pod)
		return SK_PASS; /* not a pod address: not ours to count */
	cookie = pod->netns_cookie;
	cfg = bpf_map_lookup_elem(&inbound_netns, &cookie);
	if (!cfg)
		return SK_PASS;

	cnt = bpf_map_lookup_elem(&inbound_stats, &cookie);
	if (ctx->local_port == INBOUND_HBONE_PORT)
		goto pass;
	pkey.netns_cookie = cookie;
	pkey.port = (__u16)ctx->local_port;
	if (bpf_map_lookup_elem(&inbound_ports, &pkey))
		goto pass;
	pkey.netns_cookie = 0;
	if (bpf_map_lookup_elem(&inbound_ports, &pkey))
		goto pass;
	/* From inside the pod (ztunnel connecting to the app, the app to itself): the
	 * packet came in over lo, or its source is loopback or an address of this pod.
	 */
	if (ctx->ingress_ifindex == INBOUND_LOOPBACK_IFINDEX)
		goto pass;
	inbound_remote_addr_key(ctx, &akey);
	if (inbound_addr_is_loopback(&akey))
		goto pass;
	src = bpf_map_lookup_elem(&inbound_addrs, &akey);
	if (src && src->netns_cookie == cookie)
		goto pass;

	if (cfg->mode != INBOUND_MODE_PERMISSIVE) {
		/* STRICT, and any mode this program does not know: fail closed. */
		inbound_count(cnt ? &cnt->dropped : 0);
		return SK_DROP;
	}
	lkey.netns_cookie = cookie;
	lkey.family = ctx->family;
	sk = bpf_map_lookup_elem(&inbound_listeners, &lkey);
	if (!sk)
		goto no_listener;
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err)
		goto no_listener;
	inbound_count(cnt ? &cnt->steered : 0);
	return SK_PASS;

no_listener:
	/* Without ztunnel the plaintext would bypass L4 authorization: drop; the client's
	 * SYN retransmit gives a restarting ztunnel time to register again.
	 */
	inbound_count(cnt ? &cnt->no_listener : 0);
	return SK_DROP;
pass:
	inbound_count(cnt ? &cnt->passed : 0);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
