// Shared by the netns channel tests: netns fds, inode comparison and fd counting.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstddef>

#include "common/event/scoped_fd.h"

namespace weft::nodeapi::testing {

// /proc/self/ns/net is a real netns fd without the privilege of creating a namespace.
inline event::ScopedFd OpenOwnNetns() {
  return event::ScopedFd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
}

inline ino_t InodeOf(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  return st.st_ino;
}

// Open fds of this process, minus the one opendir itself holds.
inline size_t CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  size_t count = 0;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count - 3;  // ".", ".." and the DIR's own fd
}

}  // namespace weft::nodeapi::testing
