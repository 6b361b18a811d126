/* Address helpers of the capture family: the v4-mapped form used by every key, and
 * the "never capture" destination classes. */
#pragma once

#include <bpf/bpf_endian.h>

#include "capture.h"

/* UAPI constants that vmlinux.h (BTF: types only) does not carry. */
#define CAPTURE_AF_INET 2
#define CAPTURE_AF_INET6 10
#define CAPTURE_SOCK_STREAM 1
#define CAPTURE_SOL_IP 0
#define CAPTURE_SOL_IPV6 41

static __always_inline void capture_addr_from_v4(__u32 *addr, __u32 ip4)
{
	addr[0] = 0;
	addr[1] = 0;
	addr[2] = bpf_htonl(0x0000ffff);
	addr[3] = ip4;
}

static __always_inline int capture_addr_is_v4_mapped(const __u32 *addr)
{
	return addr[0] == 0 && addr[1] == 0 && addr[2] == bpf_htonl(0x0000ffff);
}

/* Whether ip4 (network order) is a capture slot's address, 127.1.x.y; then *index is
 * the slot. */
static __always_inline int capture_slot_of_addr(__u32 ip4, __u32 *index)
{
	__u32 host = bpf_ntohl(ip4);

	if ((host & CAPTURE_SLOT_NET_MASK) != CAPTURE_SLOT_NET)
		return 0;
	*index = host & ~CAPTURE_SLOT_NET_MASK;
	return 1;
}

/* 127.0.0.0/8 and 0.0.0.0 (a connect to "any" reaches this host). */
static __always_inline int capture_v4_is_local(__u32 ip4)
{
	return (bpf_ntohl(ip4) >> 24) == 127 || ip4 == 0;
}

/* ::1 and :: */
static __always_inline int capture_v6_is_local(const __u32 *addr)
{
	return addr[0] == 0 && addr[1] == 0 && addr[2] == 0 &&
	       (addr[3] == 0 || addr[3] == bpf_htonl(1));
}

static __always_inline int capture_v6_equal(const __u32 *addr, const __u8 *other)
{
	const __u32 *o = (const __u32 *)other;

	return addr[0] == o[0] && addr[1] == o[1] && addr[2] == o[2] && addr[3] == o[3];
}
