/* ABI of the inbound steering program family (inbound.bpf.c): every map key and
 * value, shared by the BPF C and the C++ loader (agent/bpf/inbound/). Layouts only
 * grow; a change that cannot be read by the previous loader bumps
 * INBOUND_LAYOUT_VERSION so pinned maps of the old layout are not reused.
 *
 * One loaded program serves every enrolled pod netns (one bpf_link per netns).
 * sk_lookup programs may not call bpf_get_netns_cookie(), so the program finds the pod
 * from the destination address: inbound_addrs maps each pod IP (unique on a node) to
 * the netns cookie of its pod, and everything else is keyed by that cookie.
 */
#pragma once

#ifdef __cplusplus
#include <linux/types.h>
#endif

#define INBOUND_LAYOUT_VERSION 1

/* ztunnel's HBONE listener port: never steered, never dropped. */
#define INBOUND_HBONE_PORT 15008

#define INBOUND_MAX_NETNS 4096
#define INBOUND_MAX_ADDRS 16384
#define INBOUND_MAX_PORTS 16384

/* Address families as the kernel spells them (AF_INET, AF_INET6). */
#define INBOUND_AF_INET 2
#define INBOUND_AF_INET6 10

/* Value of inbound_netns.mode. 0 is never written: a zeroed entry is not enrolled. */
enum inbound_mode {
	INBOUND_MODE_PERMISSIVE = 1, /* plaintext inbound steered to ztunnel's 15006 */
	INBOUND_MODE_STRICT = 2,     /* plaintext refused (SK_DROP: lookup fails, RST) */
};

/* Value of inbound_netns, keyed by netns cookie (__u64). */
struct inbound_netns_config {
	__u32 mode; /* enum inbound_mode */
	__u32 reserved0;
};

/* Key of inbound_addrs: one pod IP. */
struct inbound_addr_key {
	__u32 family;	/* INBOUND_AF_INET or INBOUND_AF_INET6 */
	__u32 reserved0;
	__u32 addr[4];	/* network order; IPv4 in addr[0], rest zero */
};

/* Value of inbound_addrs: the pod the address belongs to. */
struct inbound_addr_value {
	__u64 netns_cookie;
};

/* Key of inbound_ports: a destination port never steered nor dropped. A netns
 * cookie of 0 excludes the port in every enrolled netns. Value: __u32, reserved (0).
 */
struct inbound_port_key {
	__u64 netns_cookie;
	__u16 port;	/* host order */
	__u16 reserved0;
	__u32 reserved1;
};

/* Key of inbound_listeners (SOCKHASH): ztunnel's plaintext inbound listener (15006)
 * for one netns and one address family of the connection it accepts.
 */
struct inbound_listener_key {
	__u64 netns_cookie;
	__u32 family;	/* family of the steered connection, not of the listener */
	__u32 reserved0;
};

/* Value of inbound_stats (per-CPU), keyed by netns cookie: one count per decision. */
struct inbound_counters {
	__u64 steered;		/* assigned to the 15006 listener */
	__u64 dropped;		/* STRICT */
	__u64 passed;		/* HBONE, excluded port, not a pod address, from inside */
	__u64 no_listener;	/* PERMISSIVE without a registered listener: dropped */
};

#ifdef __cplusplus
static_assert(sizeof(inbound_netns_config) == 8, "inbound_netns_config layout");
static_assert(sizeof(inbound_addr_key) == 24, "inbound_addr_key layout");
static_assert(sizeof(inbound_addr_value) == 8, "inbound_addr_value layout");
static_assert(sizeof(inbound_port_key) == 16, "inbound_port_key layout");
static_assert(sizeof(inbound_listener_key) == 16, "inbound_listener_key layout");
static_assert(sizeof(inbound_counters) == 32, "inbound_counters layout");
#endif
