/* Address helpers for inbound.bpf.c: build inbound_* map keys from an sk_lookup
 * context. Requires vmlinux.h, bpf_endian.h and inbound.h to be included first.
 */
#pragma once

#define INBOUND_LOOPBACK_IFINDEX 1 /* "lo" has ifindex 1 in every netns */
#define INBOUND_IPPROTO_TCP 6

static __always_inline void inbound_local_addr_key(const struct bpf_sk_lookup *ctx,
						   struct inbound_addr_key *key)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->family = ctx->family;
	if (ctx->family == INBOUND_AF_INET) {
		key->addr[0] = ctx->local_ip4;
	} else {
		key->addr[0] = ctx->local_ip6[0];
		key->addr[1] = ctx->local_ip6[1];
		key->addr[2] = ctx->local_ip6[2];
		key->addr[3] = ctx->local_ip6[3];
	}
}

static __always_inline void inbound_remote_addr_key(const struct bpf_sk_lookup *ctx,
						    struct inbound_addr_key *key)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->family = ctx->family;
	if (ctx->family == INBOUND_AF_INET) {
		key->addr[0] = ctx->remote_ip4;
	} else {
		key->addr[0] = ctx->remote_ip6[0];
		key->addr[1] = ctx->remote_ip6[1];
		key->addr[2] = ctx->remote_ip6[2];
		key->addr[3] = ctx->remote_ip6[3];
	}
}

/* 127.0.0.0/8 or ::1, on a key built by inbound_*_addr_key(). */
static __always_inline int inbound_addr_is_loopback(const struct inbound_addr_key *key)
{
	if (key->family == INBOUND_AF_INET)
		return (key->addr[0] & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000);
	return key->addr[0] == 0 && key->addr[1] == 0 && key->addr[2] == 0 &&
	       key->addr[3] == bpf_htonl(1);
}

/* field points into a per-CPU inbound_counters value, or is NULL while the agent has
 * not created the netns' entry (never created from BPF, so the map cannot grow).
 */
static __always_inline void inbound_count(__u64 *field)
{
	if (field)
		*field += 1; /* per-CPU: no atomics needed */
}
