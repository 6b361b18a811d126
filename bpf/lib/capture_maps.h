/* Maps of the outbound-capture family (bpf/capture.bpf.c). Layouts: bpf/capture.h.
 * All are pinned by the agent under <pin_dir>/maps/ and reused across restarts. */
#pragma once

#include "capture.h"

/* Owner: written by the agent (Enroll/Unenroll), read by connect4/connect6. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CAPTURE_MAX_ENROLLED);
	__type(key, __u64); /* netns cookie */
	__type(value, struct capture_workload);
} enrolled_netns SEC(".maps");

/* Owner: written by the agent (Create), read by connect4/connect6. Key 0 only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_settings);
} capture_settings SEC(".maps");

/* Owner: written by the agent (SetExclusions), read by connect4/connect6. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_port_set);
} excluded_ports SEC(".maps");

/* Owner: written by the agent (SetExclusions), read by connect4/connect6. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CAPTURE_MAX_EXCLUDED_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct capture_cidr4_key);
	__type(value, __u32);
} excluded_cidrs4 SEC(".maps");

/* Owner: written by the agent (SetExclusions), read by connect4/connect6. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CAPTURE_MAX_EXCLUDED_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct capture_cidr6_key);
	__type(value, __u32);
} excluded_cidrs6 SEC(".maps");

/* Owner: created by connect4/connect6 on client sockets of enrolled netns (updated
 * and read by sockops) and by sockops on the outbound listener's accepted sockets
 * (read by getsockopt); freed by the kernel with the socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct capture_sock_state);
} sock_state SEC(".maps");

/* Owner: written by sockops (ACTIVE_ESTABLISHED inserts, STATE_CB TCP_CLOSE deletes),
 * read by getsockopt (SO_ORIGINAL_DST) and the agent's DumpOrigDst. LRU only as a
 * safety net against a missed close. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CAPTURE_MAX_ORIG_DST);
	__type(key, struct capture_conn_key);
	__type(value, struct capture_orig_dst);
} orig_dst SEC(".maps");

/* Owner: written by connect4/connect6 (a captured IPv4 connect takes the next slot) and
 * sockops (the client port, at ACTIVE_ESTABLISHED), read by getsockopt and sockops.
 * Fixed size: nothing to clean up, a slot is simply reused when its turn comes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPTURE_SLOT_COUNT);
	__type(key, __u32);
	__type(value, struct capture_slot);
} capture_slots SEC(".maps");

/* Owner: connect4/connect6 (atomic increment). Key 0: the number of slots handed out. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} capture_slot_seq SEC(".maps");

/* Owner: written by connect4/connect6 (decisions) and sockops (histograms), read by
 * the agent (ReadWorkloadStats). Indexed by capture_workload.workload_id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CAPTURE_MAX_WORKLOADS);
	__type(key, __u32);
	__type(value, struct capture_stats);
} workload_stats SEC(".maps");
