#include "agent/nodeapi/node_local_ca.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "agent/nodeapi/node_identity_authorizer.h"
#include "common/log/logger.h"
#include "common/status/errno_status.h"

namespace weft::agent::nodeapi {
namespace {

// Parents with the default mode, the CA directory itself 0700: it holds the root key.
absl::Status EnsurePrivateDirectory(const std::string& dir) {
  const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    return absl::InternalError(absl::StrCat("creating ", parent.string(), ": ", error.message()));
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus(errno, "mkdir", dir);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("CA directory ", dir, " is not a directory"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ca::LocalCa>> OpenNodeLocalCa(const NodeLocalCaOptions& options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("local CA: store is required");
  std::shared_ptr<const config::ConfigSnapshot> snapshot = options.store->Current();
  if (snapshot == nullptr) {
    return absl::UnavailableError(
        "the local CA opens once a valid config is applied (its trust domain comes from it)");
  }
  if (absl::Status s = EnsurePrivateDirectory(options.ca_dir); !s.ok()) return s;
  const std::string trust_domain = TrustDomainOf(snapshot->config);
  ca::LocalCaOptions ca_options;
  ca_options.root_key_path = absl::StrCat(options.ca_dir, "/ca.key");
  ca_options.root_cert_path = absl::StrCat(options.ca_dir, "/ca.crt");
  ca_options.trust_domain = trust_domain;
  ca_options.authorizer = NodeIdentityAuthorizer(options.store, options.node);
  auto ca = ca::LocalCa::Create(std::move(ca_options));
  if (!ca.ok()) return ca.status();
  log::Info("local CA ready",
            {{"dir", options.ca_dir},
             {"trust_domain", trust_domain},
             {"root_not_after",
              absl::FormatTime(absl::RFC3339_sec, (*ca)->root_not_after(), absl::UTCTimeZone())}});
  return ca;
}

absl::StatusOr<const ca::LocalCa*> LazyNodeLocalCa::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ca_ != nullptr) return ca_.get();
  absl::StatusOr<std::unique_ptr<ca::LocalCa>> opened = OpenNodeLocalCa(options_);
  if (!opened.ok()) {
    if (std::string error = opened.status().ToString(); error != last_error_) {
      log::Error("local CA not available", {{"dir", options_.ca_dir}, {"error", opened.status()}});
      last_error_ = std::move(error);
    }
    return opened.status();
  }
  ca_ = *std::move(opened);
  return ca_.get();
}

}  // namespace weft::agent::nodeapi
