#include "agent/lab/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/lab/address_plan.h"
#include "common/config/document_parser.h"
#include "google/protobuf/util/json_util.h"
#include "common/status/errno_status.h"

namespace weft::lab {
namespace {

std::string EditLockPath(const std::string& lab) { return StateDir(lab) + "/edit.lock"; }

}  // namespace

absl::StatusOr<FileLock> FileLock::Acquire(const std::string& path, bool wait) {
  while (true) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open lock ", path));
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return absl::ResourceExhaustedError(path + " is locked");
      return ErrnoStatus(err, absl::StrCat("flock ", path));
    }
    // Whoever held the lock may have deleted the file: then we hold a lock nobody else
    // can see, and must lock the file that is there now.
    struct stat held;
    struct stat current;
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &current) == 0 &&
        held.st_ino == current.st_ino && held.st_dev == current.st_dev) {
      return FileLock(fd);
    }
    ::close(fd);
  }
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string LabLockPath(const std::string& lab) { return StateDir(lab) + "/lab.lock"; }

bool StateDirExists(const std::string& lab) {
  struct stat st;
  return ::stat(StateDir(lab).c_str(), &st) == 0;
}

absl::Status CreateStateDir(const std::string& lab) {
  const std::string dir = StateDir(lab);
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("mkdir ", prefix));
    }
  }
  return absl::OkStatus();
}

absl::Status RemoveStateDir(const std::string& lab) {
  // Files, the lab CA's directory and the nodes' socket directories; nothing is mounted
  // there, so a plain recursive removal cannot leave the directory.
  const std::string dir = StateDir(lab);
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  if (error) return absl::InternalError(absl::StrCat("remove ", dir, ": ", error.message()));
  return absl::OkStatus();
}

absl::StatusOr<LabState> LoadState(const std::string& lab) {
  const std::string path = StateFilePath(lab);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("lab ", lab, " does not exist"));
    return ErrnoStatus(errno, absl::StrCat("stat ", path));
  }
  LabState state;
  if (absl::Status s = ReadJsonFile(path, &state); !s.ok()) return s;
  return state;
}

absl::Status SaveState(const std::string& lab, const LabState& state) {
  return WriteJsonAtomically(StateFilePath(lab), state);
}

absl::StatusOr<weft::lab::state::v1::PodState> FindPod(const LabState& state,
                                                       const std::string& ref) {
  size_t slash = ref.find('/');
  std::vector<const weft::lab::state::v1::PodState*> matches;
  for (const auto& pod : state.pods()) {
    bool match = slash == std::string::npos ? pod.name() == ref
                                            : pod.namespace_() == ref.substr(0, slash) &&
                                                  pod.name() == ref.substr(slash + 1);
    if (match) matches.push_back(&pod);
  }
  if (matches.size() == 1) return *matches[0];
  if (matches.empty()) {
    return absl::NotFoundError(absl::StrCat("no pod \"", ref, "\" in lab ", state.name()));
  }
  std::vector<std::string> names;
  for (const weft::lab::state::v1::PodState* pod : matches)
    names.push_back(absl::StrCat(pod->namespace_(), "/", ref));
  return absl::InvalidArgumentError(
      absl::StrCat("pod name \"", ref, "\" is ambiguous: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<FileLock> LockForEdit(const std::string& lab) {
  return FileLock::Acquire(EditLockPath(lab), /*wait=*/true);
}

absl::Status UpdateStateLocked(const std::string& lab,
                               absl::FunctionRef<absl::Status(LabState&)> mutate) {
  absl::StatusOr<LabState> state = LoadState(lab);
  if (!state.ok()) return state.status();
  if (absl::Status s = mutate(*state); !s.ok()) return s;
  return SaveState(lab, *state);
}

absl::Status UpdateState(const std::string& lab,
                         absl::FunctionRef<absl::Status(LabState&)> mutate) {
  absl::StatusOr<FileLock> lock = LockForEdit(lab);
  if (!lock.ok()) return lock.status();
  return UpdateStateLocked(lab, mutate);
}

namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, int mode) {
  std::string tmp = absl::StrCat(path, ".tmp.XXXXXX");
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("create temporary file for ", path));
  absl::Status status;
  size_t done = 0;
  while (done < contents.size() && status.ok()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno != EINTR) status = ErrnoStatus(errno, absl::StrCat("write ", tmp));
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (status.ok() && ::fchmod(fd, mode) != 0) status = ErrnoStatus(errno, "fchmod " + tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus(errno, "fsync " + tmp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close " + tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("rename ", tmp, " to ", path));
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  // The rename is durable only once the directory entry is.
  const std::string dir = DirName(path);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoStatus(errno, "open directory " + dir);
  if (::fsync(dir_fd) != 0) status = ErrnoStatus(errno, "fsync directory " + dir);
  ::close(dir_fd);
  return status;
}

absl::Status WriteJsonAtomically(const std::string& path,
                                 const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("encode ", path, " as JSON: ", std::string(status.message())));
  }
  return WriteFileAtomically(path, json);
}

absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* message) {
  absl::StatusOr<std::string> text = weft::config::ReadFileToString(path);
  if (!text.ok()) return text.status();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer weftctl may have written more fields
  auto status = google::protobuf::util::JsonStringToMessage(*text, message, options);
  if (!status.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": not valid JSON for ", message->GetTypeName(),
                                            ": ", std::string(status.message())));
  }
  return absl::OkStatus();
}

}  // namespace weft::lab
