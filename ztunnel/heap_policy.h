// How ztunnel's heap behaves: grown while traffic flows, given back once idle.
//
// The data path moves bytes in buffers of up to a few MiB (TLS records batched per flush,
// send queues). With glibc's defaults each one is mmapped, or the heap top is trimmed and
// faulted in again, which halved bulk throughput (bench/mesh_bench). So the heap is kept
// while busy, and returned when a worker goes idle. glibc trims an arena's top only above
// the trim threshold, even in malloc_trim(), so the release lowers it for the call.
#pragma once

namespace weft::ztunnel {

// At startup, before the workers run.
void KeepHeapWhileBusy();
// Any thread; cheap to call when there is nothing to return.
void ReleaseIdleHeap();

}  // namespace weft::ztunnel
