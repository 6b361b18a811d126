/* ABI of the loopback short-circuit (shortcircuit.bpf.c): sockops puts established
 * loopback TCP sockets of enrolled pod netns into a SOCKHASH, and sk_msg hands each
 * send straight to the peer socket's receive queue. Shared by the BPF C and the C++
 * loader (agent/bpf/inbound/). Layouts only grow; an incompatible change bumps
 * SHORTCIRCUIT_LAYOUT_VERSION so pinned maps of the old layout are not reused.
 */
#pragma once

#ifdef __cplusplus
#include <linux/types.h>
#endif

#define SHORTCIRCUIT_LAYOUT_VERSION 1

#define SHORTCIRCUIT_MAX_NETNS 4096
#define SHORTCIRCUIT_MAX_SOCKS 65536

/* Key of shortcircuit_socks: one end of a loopback connection, seen from that end.
 * IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so a dual-stack socket and a plain IPv4
 * socket of the same connection produce mirror-image keys.
 */
struct shortcircuit_sock_key {
	__u64 netns_cookie;
	__u32 local_ip[4];	/* network order */
	__u32 remote_ip[4];	/* network order */
	__u16 local_port;	/* host order */
	__u16 remote_port;	/* host order */
	__u32 reserved0;
};

/* Index into shortcircuit_stats (per-CPU array of __u64). */
enum shortcircuit_stat {
	SHORTCIRCUIT_STAT_ADDED = 0,	  /* sockets put into the sockhash */
	SHORTCIRCUIT_STAT_ADD_FAILED = 1, /* sock_hash_update refused (map full) */
	SHORTCIRCUIT_STAT_REDIRECTED = 2, /* sendmsg calls handed to the peer */
	SHORTCIRCUIT_STAT_NO_PEER = 3,	  /* peer not in the sockhash: normal TCP */
	SHORTCIRCUIT_STAT_MAX = 4,
};

#ifdef __cplusplus
static_assert(sizeof(shortcircuit_sock_key) == 48, "shortcircuit_sock_key layout");
#endif
