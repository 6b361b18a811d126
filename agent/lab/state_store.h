// The lab's state directory (/run/weft/lab/<lab>/): state.json, the lock the supervisor
// holds for its whole life, and the short lock every read-modify-write of state.json
// or cluster.json takes (supervisor restarts, `lab label`, `lab apply` run concurrently).
//
// Files are replaced whole (temporary file, fsync, rename): the agents watch
// cluster.json with inotify and may read it at any moment.
#pragma once

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/lab/lab_state.pb.h"
#include "google/protobuf/message.h"

namespace weft::lab {

using weft::lab::state::v1::LabState;

// An exclusive flock(2) on a file, released on destruction.
class FileLock {
 public:
  // Creates `path` if needed. With `wait` false, a lock held elsewhere is
  // ResourceExhausted. The lock is retaken if `path` was replaced while waiting
  // (`lab down` deletes the directory holding it).
  static absl::StatusOr<FileLock> Acquire(const std::string& path, bool wait);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

std::string LabLockPath(const std::string& lab);

bool StateDirExists(const std::string& lab);
absl::Status CreateStateDir(const std::string& lab);
// Removes the state directory and everything in it; a missing directory is fine.
absl::Status RemoveStateDir(const std::string& lab);

// NotFound when the lab has no state.json.
absl::StatusOr<LabState> LoadState(const std::string& lab);
absl::Status SaveState(const std::string& lab, const LabState& state);

// Load, `mutate`, save — under the edit lock. `mutate` may fail to abort the save.
absl::Status UpdateState(const std::string& lab, absl::FunctionRef<absl::Status(LabState&)> mutate);
// The same for a caller that already holds the edit lock.
absl::Status UpdateStateLocked(const std::string& lab,
                               absl::FunctionRef<absl::Status(LabState&)> mutate);

// A pod by "namespace/name", or by "name" when only one namespace has such a pod.
absl::StatusOr<weft::lab::state::v1::PodState> FindPod(const LabState& state,
                                                       const std::string& ref);

// Holds the edit lock for a read-modify-write of files in the state directory.
absl::StatusOr<FileLock> LockForEdit(const std::string& lab);

// Writes a temporary file in the same directory, fsyncs it, renames it over `path` and
// fsyncs the directory.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 int mode = 0644);

// `message` in the protobuf JSON mapping with proto field names, pretty-printed.
absl::Status WriteJsonAtomically(const std::string& path, const google::protobuf::Message& message);

// Reads a JSON file written by WriteJsonAtomically (or by hand) into `message`.
absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* message);

}  // namespace weft::lab
