/* ABI shared by capture.bpf.c and the agent's loader (agent/bpf/capture/): every
 * map key and value of the outbound-capture family. Layouts only grow: a field is
 * never reordered or dropped (rename it reservedN instead), and any change to a
 * size or meaning bumps CAPTURE_LAYOUT_VERSION so a restarted agent does not reuse
 * pinned maps it cannot read.
 *
 * Byte order: addresses are kept as four network-order 32-bit words, IPv4 as the
 * v4-mapped IPv6 form (::ffff:a.b.c.d), so one key shape serves both families and
 * a dual-stack socket talking IPv4 matches the IPv4 peer of the same connection.
 */
#pragma once

#ifdef __cplusplus
#include <cstdint>
#define CAP_U8 uint8_t
#define CAP_U16 uint16_t
#define CAP_U32 uint32_t
#define CAP_U64 uint64_t
#else
#define CAP_U8 __u8
#define CAP_U16 __u16
#define CAP_U32 __u32
#define CAP_U64 __u64
#endif

/* 2: policy maps; 3: capture_slots, settings flags; 4: excluded_ports is a bitmap */
#define CAPTURE_LAYOUT_VERSION 4
#define CAPTURE_DEFAULT_OUTBOUND_PORT 15001
/* Size of workload_stats: workload ids are dense indexes handed out by the agent. */
#define CAPTURE_MAX_WORKLOADS 4096
#define CAPTURE_MAX_ENROLLED 16384
#define CAPTURE_MAX_EXCLUDED_PORTS 256
#define CAPTURE_MAX_EXCLUDED_CIDRS 1024
/* Safety net only: entries are deleted when the client socket closes. */
#define CAPTURE_MAX_ORIG_DST 65536
/* A captured IPv4 connect() is sent to 127.1.0.0 + slot (the outbound port), and slot
 * `slot` of capture_slots keeps its original destination: ztunnel's accepted socket
 * names the slot by its own local address, so connect4 writes no per-socket state.
 * Slots are handed out round robin; a slot is checked (netns, client port) before it
 * is believed, so one that came round again is never answered for the wrong socket. */
#define CAPTURE_SLOT_COUNT 65536
#define CAPTURE_SLOT_NET 0x7f010000U /* 127.1.0.0/16, host order */
#define CAPTURE_SLOT_NET_MASK 0xffff0000U
#define CAPTURE_HIST_BUCKETS 32
#define CAPTURE_MAX_POLICY_DENY_COUNTERS 16384
/* netfilter's SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST share the value 80. */
#define CAPTURE_SO_ORIGINAL_DST 80

/* capture_workload.flags */
#define CAPTURE_WORKLOAD_HAS_IPV4 (1U << 0)
#define CAPTURE_WORKLOAD_HAS_IPV6 (1U << 1)

/* Value of `enrolled_netns`, keyed by the pod's netns cookie (u64). */
struct capture_workload {
	CAP_U32 workload_id; /* index into workload_stats */
	CAP_U32 flags;       /* CAPTURE_WORKLOAD_* */
	CAP_U32 pod_ipv4;    /* network order; valid with HAS_IPV4 */
	CAP_U8 pod_ipv6[16]; /* valid with HAS_IPV6 */
	CAP_U32 reserved0;
};

/* capture_settings.flags: the exclusion maps that hold entries (the others are not
 * looked up at all: an empty LPM trie still costs a walk on every connect). */
#define CAPTURE_SETTINGS_EXCLUDED_PORTS (1U << 0)
#define CAPTURE_SETTINGS_EXCLUDED_CIDRS4 (1U << 1)
#define CAPTURE_SETTINGS_EXCLUDED_CIDRS6 (1U << 2)

/* The single element of `capture_settings`. */
struct capture_settings {
	CAP_U32 layout_version; /* CAPTURE_LAYOUT_VERSION of whoever created the maps */
	CAP_U16 outbound_port;  /* host order; ztunnel's outbound listener */
	CAP_U16 flags;          /* CAPTURE_SETTINGS_* */
	CAP_U32 ztunnel_mark; /* SO_MARK of ztunnel's own sockets; 0 = none */
	CAP_U32 reserved1;
};

/* Key of `policy_deny_counts` (per-CPU u64): connects of a workload the in-kernel
 * policy refused, by policy id (the compiler's numbering, 1-based). */
struct capture_policy_deny_key {
	CAP_U32 workload_id;
	CAP_U32 policy_id;
};

/* The one value of `excluded_ports` (an array of one): bit (port & 63) of word
 * (port >> 6) set means connects to that destination port (host order) pass
 * untouched. A bitmap, so connect4 tests a port with one fixed-offset read instead of
 * a hash probe (~30 ns on the 2-core VM). */
#define CAPTURE_PORT_WORDS 1024
struct capture_port_set {
	CAP_U64 words[CAPTURE_PORT_WORDS];
};

/* Keys of the `excluded_cidrs4` / `excluded_cidrs6` LPM tries; values are u32 1. */
struct capture_cidr4_key {
	CAP_U32 prefixlen;
	CAP_U32 addr; /* network order */
};

struct capture_cidr6_key {
	CAP_U32 prefixlen;
	CAP_U8 addr[16];
};

/* Key of `orig_dst`: the client end of a captured connection, as seen by both the
 * client's sockops and the peer address of ztunnel's accepted socket. */
struct capture_conn_key {
	CAP_U64 netns_cookie;
	CAP_U32 addr[4]; /* client address, v4-mapped for IPv4 */
	CAP_U16 port;    /* client port, network order */
	CAP_U16 reserved0;
	CAP_U32 reserved1;
};

/* Value of `orig_dst`: where the application meant to connect. */
struct capture_orig_dst {
	CAP_U32 addr[4]; /* v4-mapped for IPv4 */
	CAP_U16 port;    /* network order */
	CAP_U16 family;  /* 4 or 6 */
	CAP_U32 workload_id;
};

/* Value of `capture_slots` (array of CAPTURE_SLOT_COUNT): one captured IPv4 connect. */
struct capture_slot {
	struct capture_orig_dst dst;
	CAP_U64 reserved0;    /* was connect_ns: the handshake is timed from TCP's RTT sample */
	CAP_U64 netns_cookie; /* the client's netns; the accepted socket's must match */
	/* The client's port (network order, low 16 bits), claimed once by the first socket
	 * of that netns to complete a handshake to the slot's address: the captured one,
	 * which connects before anybody can know the address. 0 until then. */
	CAP_U64 client_port; /* 64 bits: what a BPF compare-and-swap takes everywhere */
};

/* capture_sock_state.flags */
#define CAPTURE_SOCK_CAPTURED (1U << 0)
#define CAPTURE_SOCK_KEY_SET (1U << 1)
/* On the outbound listener's accepted socket: dst is the copy getsockopt answers. */
#define CAPTURE_SOCK_ACCEPTED (1U << 2)

/* Value of the `sock_state` sk_storage: per client socket of an enrolled netns and
 * per socket accepted by the outbound listener for a captured connection; freed
 * with the socket. Kernel-only, declared here so its size is pinned down. */
struct capture_sock_state {
	CAP_U64 reserved0; /* was connect_ns */
	CAP_U64 netns_cookie;
	struct capture_orig_dst dst;
	struct capture_conn_key key; /* valid with CAPTURE_SOCK_KEY_SET */
	CAP_U32 workload_id;
	CAP_U32 flags; /* CAPTURE_SOCK_* */
};

/* Value of the `workload_stats` per-CPU array, indexed by workload_id. Histogram
 * bucket i counts samples v with floor(log2(v)) == i (bucket 0 also takes v == 0;
 * the last bucket takes everything larger). */
struct capture_stats {
	CAP_U64 captured; /* connect() rewritten to the outbound listener */
	CAP_U64 passed;   /* excluded: loopback, own IP, port, CIDR, ztunnel mark */
	CAP_U64 denied;   /* refused by the in-kernel L4 policy (connect() got EPERM) */
	CAP_U64 errors;   /* captured-worthy but no socket storage: passed instead */
	CAP_U64 connect_latency_ns[CAPTURE_HIST_BUCKETS]; /* connect() to ESTABLISHED */
	CAP_U64 srtt_us[CAPTURE_HIST_BUCKETS];            /* BPF_SOCK_OPS_RTT_CB samples */
};

#ifdef __cplusplus
static_assert(sizeof(capture_workload) == 32, "capture_workload layout");
static_assert(sizeof(capture_settings) == 16, "capture_settings layout");
static_assert(sizeof(capture_port_set) == 8192, "capture_port_set layout");
static_assert(sizeof(capture_policy_deny_key) == 8, "capture_policy_deny_key layout");
static_assert(sizeof(capture_cidr4_key) == 8, "capture_cidr4_key layout");
static_assert(sizeof(capture_cidr6_key) == 20, "capture_cidr6_key layout");
static_assert(sizeof(capture_conn_key) == 32, "capture_conn_key layout");
static_assert(sizeof(capture_orig_dst) == 24, "capture_orig_dst layout");
static_assert(sizeof(capture_sock_state) == 80, "capture_sock_state layout");
static_assert(sizeof(capture_slot) == 48, "capture_slot layout");
static_assert(sizeof(capture_stats) == 32 + 2 * 8 * CAPTURE_HIST_BUCKETS, "capture_stats layout");
#endif
