/* Helpers for shortcircuit.bpf.c: normalize a sockops or sk_msg view of a TCP socket
 * into a shortcircuit_sock_key (IPv4 as IPv4-mapped IPv6, ports in host order), and
 * count into shortcircuit_stats. Requires vmlinux.h, bpf_endian.h, bpf_helpers.h and
 * shortcircuit.h to be included first.
 */
#pragma once

#define SC_AF_INET 2
#define SC_AF_INET6 10

/* remote_port in bpf_sock_ops and sk_msg_md is the network-order port; depending on
 * the kernel it sits in the high or the low 16 bits of the 32-bit field. Either way
 * the port is not 0 on an established socket, so the shift can be decided from it.
 */
static __always_inline __u16 sc_remote_port(__u32 raw)
{
	__u32 p = bpf_ntohl(raw);

	return p > 0xffff ? (__u16)(p >> 16) : (__u16)p;
}

static __always_inline void sc_v4_mapped(__u32 ip[4], __u32 ip4)
{
	ip[0] = 0;
	ip[1] = 0;
	ip[2] = bpf_htonl(0xffff);
	ip[3] = ip4;
}

/* Both ends of the connection are in this netns: loopback, or the pod talking to its
 * own address (which the kernel also routes over lo).
 */
static __always_inline int sc_key_is_loopback(const struct shortcircuit_sock_key *k)
{
	int v4 = k->local_ip[0] == 0 && k->local_ip[1] == 0 &&
		 k->local_ip[2] == bpf_htonl(0xffff);

	if (v4 && (k->local_ip[3] & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000) &&
	    k->remote_ip[0] == 0 && k->remote_ip[1] == 0 && k->remote_ip[2] == bpf_htonl(0xffff) &&
	    (k->remote_ip[3] & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000))
		return 1;
	if (!v4 && k->local_ip[0] == 0 && k->local_ip[1] == 0 && k->local_ip[2] == 0 &&
	    k->local_ip[3] == bpf_htonl(1) && k->remote_ip[0] == 0 && k->remote_ip[1] == 0 &&
	    k->remote_ip[2] == 0 && k->remote_ip[3] == bpf_htonl(1))
		return 1;
	return k->local_ip[0] == k->remote_ip[0] && k->local_ip[1] == k->remote_ip[1] &&
	       k->local_ip[2] == k->remote_ip[2] && k->local_ip[3] == k->remote_ip[3];
}

/* Key of the socket itself. Returns 0 for families other than IPv4/IPv6. */
static __always_inline int sc_key_from_sockops(const struct bpf_sock_ops *skops, __u64 cookie,
					       struct shortcircuit_sock_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns_cookie = cookie;
	if (skops->family == SC_AF_INET) {
		sc_v4_mapped(k->local_ip, skops->local_ip4);
		sc_v4_mapped(k->remote_ip, skops->remote_ip4);
	} else if (skops->family == SC_AF_INET6) {
		k->local_ip[0] = skops->local_ip6[0];
		k->local_ip[1] = skops->local_ip6[1];
		k->local_ip[2] = skops->local_ip6[2];
		k->local_ip[3] = skops->local_ip6[3];
		k->remote_ip[0] = skops->remote_ip6[0];
		k->remote_ip[1] = skops->remote_ip6[1];
		k->remote_ip[2] = skops->remote_ip6[2];
		k->remote_ip[3] = skops->remote_ip6[3];
	} else {
		return 0;
	}
	k->local_port = (__u16)skops->local_port;
	k->remote_port = sc_remote_port(skops->remote_port);
	return 1;
}

/* Key of the peer socket (local and remote swapped) of the socket sending msg. */
static __always_inline int sc_peer_key_from_msg(const struct sk_msg_md *msg, __u64 cookie,
						struct shortcircuit_sock_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns_cookie = cookie;
	if (msg->family == SC_AF_INET) {
		sc_v4_mapped(k->local_ip, msg->remote_ip4);
		sc_v4_mapped(k->remote_ip, msg->local_ip4);
	} else if (msg->family == SC_AF_INET6) {
		k->local_ip[0] = msg->remote_ip6[0];
		k->local_ip[1] = msg->remote_ip6[1];
		k->local_ip[2] = msg->remote_ip6[2];
		k->local_ip[3] = msg->remote_ip6[3];
		k->remote_ip[0] = msg->local_ip6[0];
		k->remote_ip[1] = msg->local_ip6[1];
		k->remote_ip[2] = msg->local_ip6[2];
		k->remote_ip[3] = msg->local_ip6[3];
	} else {
		return 0;
	}
	k->local_port = sc_remote_port(msg->remote_port);
	k->remote_port = (__u16)msg->local_port;
	return 1;
}

/* stats is the shortcircuit_stats per-CPU array: no atomics needed. */
static __always_inline void sc_count(void *stats, __u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(stats, &stat);

	if (v)
		*v += 1;
}
