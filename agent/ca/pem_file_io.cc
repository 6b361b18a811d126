#include "agent/ca/pem_file_io.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"
#include "common/tls/openssl_error.h"

namespace weft::ca {
namespace {

// Never prompt on a terminal for an encrypted key: the agent runs unattended.
int RefusePassphrase(char*, int, int, void*) { return 0; }

// Reads a whole file through an already-open descriptor (so the checks made with fstat() apply
// to what is read).
absl::StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string contents;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      WipeString(contents);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    // Roots are a few hundred bytes; anything this large is not ours.
    if (contents.size() > (1 << 20)) {
      WipeString(contents);
      return absl::InvalidArgumentError(absl::StrCat(path, " is larger than 1 MiB"));
    }
  }
  OPENSSL_cleanse(buffer, sizeof(buffer));
  return contents;
}

absl::Status WriteAll(int fd, const std::string& contents, const std::string& path) {
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status FsyncDirectoryOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", dir);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync directory", dir);
  return absl::OkStatus();
}

}  // namespace

void WipeString(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 mode_t mode) {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return tls::OpenSslInternal(absl::StrCat("generating a temporary name for ", path));
  }
  const std::string temp =
      absl::StrCat(path, ".tmp-",
                   absl::BytesToHexString(
                       absl::string_view(reinterpret_cast<const char*>(random), sizeof(random))));
  // O_EXCL + O_NOFOLLOW: never write through a file or symlink someone else planted.
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(errno, "create", temp);
  absl::Status status = WriteAll(fd, contents, temp);
  if (status.ok() && fsync(fd) != 0) status = ErrnoStatus(errno, "fsync", temp);
  if (close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close", temp);
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("rename ", temp, " to"), path);
  }
  if (!status.ok()) {
    unlink(temp.c_str());
    return status;
  }
  return FsyncDirectoryOf(path);
}

absl::StatusOr<tls::EvpPkeyPtr> ReadPrivateKeyFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open root key", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, "stat root key", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat("root key ", path, " is not a regular file"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    close(fd);
    char mode[8];
    snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::PermissionDeniedError(
        absl::StrCat("root key ", path, " has mode ", mode,
                     "; it must not be accessible by group or others (chmod 0600)"));
  }
  absl::StatusOr<std::string> pem = ReadAll(fd, path);
  close(fd);
  if (!pem.ok()) return pem.status();

  ERR_clear_error();
  tls::BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (bio == nullptr) {
    WipeString(*pem);
    return tls::OpenSslInternal("allocating a buffer for the root key");
  }
  tls::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, RefusePassphrase, nullptr));
  bio.reset();
  WipeString(*pem);
  if (key == nullptr) {
    return tls::OpenSslError(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("parsing root key ", path, " (unencrypted PEM expected)"));
  }
  return key;
}

absl::StatusOr<tls::X509Ptr> ReadCertificateFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open root certificate", path);
  absl::StatusOr<std::string> pem = ReadAll(fd, path);
  close(fd);
  if (!pem.ok()) return pem.status();
  ERR_clear_error();
  tls::BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (bio == nullptr) return tls::OpenSslInternal("allocating a buffer for the root certificate");
  tls::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, RefusePassphrase, nullptr));
  if (cert == nullptr) {
    return tls::OpenSslError(absl::StatusCode::kInvalidArgument,
                             absl::StrCat("parsing root certificate ", path));
  }
  return cert;
}

}  // namespace weft::ca
