#include "agent/bpf/policy/policy_map_writer.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft::bpf::policy {
namespace {

// Entries as raw bytes: one diff for every key/value type of bpf/policy.h.
using Bytes = std::string;
using RawEntries = std::map<Bytes, Bytes>;

template <typename T>
Bytes AsBytes(const T& v) {
  return Bytes(reinterpret_cast<const char*>(&v), sizeof(v));
}

template <typename T>
T FromBytes(const Bytes& b) {
  T v;
  std::memcpy(&v, b.data(), sizeof(v));
  return v;
}

template <typename K, typename V>
RawEntries ToRaw(const std::vector<std::pair<K, V>>& entries) {
  RawEntries out;
  for (const auto& [k, v] : entries) out[AsBytes(k)] = AsBytes(v);
  return out;
}

template <typename K, typename V>
std::vector<std::pair<K, V>> FromRaw(const RawEntries& raw) {
  std::vector<std::pair<K, V>> out;
  out.reserve(raw.size());
  for (const auto& [k, v] : raw) out.emplace_back(FromBytes<K>(k), FromBytes<V>(v));
  return out;
}

absl::Status MapError(const struct bpf_map* map, const char* what, int err) {
  return absl::ErrnoToStatus(err, absl::StrCat(what, " on BPF map ", bpf_map__name(map)));
}

absl::StatusOr<RawEntries> ReadAll(const struct bpf_map* map) {
  const size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
  RawEntries out;
  Bytes key(ksz, '\0'), next(ksz, '\0'), value(vsz, '\0');
  const void* prev = nullptr;
  // A hash map holds at most max_entries keys; the bound keeps a map that changes
  // under us (another writer) from looping forever.
  for (size_t i = 0; i <= bpf_map__max_entries(map); ++i) {
    int rc = bpf_map__get_next_key(map, prev, next.data(), ksz);
    if (rc == -ENOENT) return out;
    if (rc != 0) return MapError(map, "bpf_map__get_next_key", -rc);
    rc = bpf_map__lookup_elem(map, next.data(), ksz, value.data(), vsz, 0);
    if (rc == 0) {
      out[next] = value;
    } else if (rc != -ENOENT) {  // deleted between the two calls: nothing to read
      return MapError(map, "bpf_map__lookup_elem", -rc);
    }
    key = next;
    prev = key.data();
  }
  return absl::InternalError(
      absl::StrCat("BPF map ", bpf_map__name(map), " kept growing while it was read"));
}

absl::Status DeleteStale(struct bpf_map* map, const RawEntries& current, const RawEntries& desired,
                         PolicyMapSyncStats& stats) {
  for (const auto& [k, v] : current) {
    if (desired.contains(k)) continue;
    int rc = bpf_map__delete_elem(map, k.data(), k.size(), 0);
    if (rc != 0 && rc != -ENOENT) return MapError(map, "bpf_map__delete_elem", -rc);
    ++stats.deleted;
  }
  return absl::OkStatus();
}

absl::Status Upsert(struct bpf_map* map, const RawEntries& current, const RawEntries& desired,
                    PolicyMapSyncStats& stats) {
  for (const auto& [k, v] : desired) {
    auto it = current.find(k);
    if (it != current.end() && it->second == v) {
      ++stats.unchanged;
      continue;
    }
    int rc = bpf_map__update_elem(map, k.data(), k.size(), v.data(), v.size(), BPF_ANY);
    if (rc != 0) return MapError(map, "bpf_map__update_elem", -rc);
    ++(it == current.end() ? stats.added : stats.updated);
  }
  return absl::OkStatus();
}

absl::Status CheckLayout(const struct bpf_map* map, const char* name, size_t key, size_t value) {
  if (map == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("policy map ", name, " missing"));
  if (bpf_map__key_size(map) != key || bpf_map__value_size(map) != value) {
    return absl::FailedPreconditionError(
        absl::StrCat("BPF map ", name, " has key/value size ", bpf_map__key_size(map), "/",
                     bpf_map__value_size(map), ", bpf/policy.h (ABI ", WEFT_POLICY_ABI_VERSION,
                     ") expects ", key, "/", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PolicyMapWriter>> PolicyMapWriter::Create(PolicyMaps maps) {
  absl::Status s = CheckLayout(maps.dst_v4, "policy_dst_v4", sizeof(weft_policy_dst_v4_key),
                               sizeof(weft_policy_dst_value));
  if (s.ok()) {
    s = CheckLayout(maps.dst_v6, "policy_dst_v6", sizeof(weft_policy_dst_v6_key),
                    sizeof(weft_policy_dst_value));
  }
  if (s.ok()) {
    s = CheckLayout(maps.verdicts, "policy_verdicts", sizeof(weft_policy_verdict_key),
                    sizeof(weft_policy_verdict_value));
  }
  if (!s.ok()) return s;
  return std::unique_ptr<PolicyMapWriter>(new PolicyMapWriter(maps));
}

absl::StatusOr<PolicyMapSyncStats> PolicyMapWriter::Apply(const CompiledPolicyMaps& compiled) {
  struct Plan {
    struct bpf_map* map;
    RawEntries desired;
    RawEntries& current;
  };
  Plan v4{maps_.dst_v4, ToRaw(compiled.dst_v4), written_[0]};
  Plan v6{maps_.dst_v6, ToRaw(compiled.dst_v6), written_[1]};
  Plan verdicts{maps_.verdicts, ToRaw(compiled.verdicts), written_[2]};
  if (!known_) {
    for (Plan* p : {&v4, &v6, &verdicts}) {
      absl::StatusOr<RawEntries> current = ReadAll(p->map);
      if (!current.ok()) return current.status();
      p->current = *std::move(current);
    }
  }
  known_ = false;  // until every step below succeeded
  PolicyMapSyncStats stats;
  // Deletes first so that a compiled set that fits the maps never hits E2BIG.
  for (Plan* p : {&v4, &v6, &verdicts}) {
    if (absl::Status s = DeleteStale(p->map, p->current, p->desired, stats); !s.ok()) return s;
  }
  for (Plan* p : {&verdicts, &v4, &v6}) {
    if (absl::Status s = Upsert(p->map, p->current, p->desired, stats); !s.ok()) return s;
  }
  for (Plan* p : {&v4, &v6, &verdicts}) p->current = std::move(p->desired);
  known_ = true;
  return stats;
}

absl::StatusOr<PolicyMapDump> ReadPolicyMaps(const PolicyMaps& maps) {
  PolicyMapDump out;
  absl::StatusOr<RawEntries> v4 = ReadAll(maps.dst_v4);
  if (!v4.ok()) return v4.status();
  absl::StatusOr<RawEntries> v6 = ReadAll(maps.dst_v6);
  if (!v6.ok()) return v6.status();
  absl::StatusOr<RawEntries> verdicts = ReadAll(maps.verdicts);
  if (!verdicts.ok()) return verdicts.status();
  out.dst_v4 = FromRaw<weft_policy_dst_v4_key, weft_policy_dst_value>(*v4);
  out.dst_v6 = FromRaw<weft_policy_dst_v6_key, weft_policy_dst_value>(*v6);
  out.verdicts = FromRaw<weft_policy_verdict_key, weft_policy_verdict_value>(*verdicts);
  return out;
}

}  // namespace weft::bpf::policy
