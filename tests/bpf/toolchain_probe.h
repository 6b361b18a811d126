/* ABI shared by toolchain_probe.bpf.c and toolchain_test.cc: proves that the
 * bpf_object() build (clang -target bpf, vmlinux.h, bpftool skeleton) produces a
 * program the kernel loads and that userspace reaches only through the skeleton.
 */
#pragma once

#ifdef __cplusplus
#include <cstdint>
#define TP_U16 uint16_t
#define TP_U32 uint32_t
#define TP_U64 uint64_t
#else
#define TP_U16 __u16
#define TP_U32 __u32
#define TP_U64 __u64
#endif

/* Key of the `port_hits` hash map: destination TCP port (host order) + family. */
struct tp_port_key {
	TP_U16 port;
	TP_U16 family; /* 4 or 6 */
	TP_U32 reserved0;
};

/* Index into the `verdicts` array map. */
enum tp_verdict {
	TP_TCP = 0,
	TP_NOT_TCP = 1,
	TP_MALFORMED = 2,
	TP_VERDICT_MAX = 3,
};

#ifdef __cplusplus
static_assert(sizeof(tp_port_key) == 8, "tp_port_key layout");
#endif
