#include "bench/modes/iptables_capture.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/modes/netns_command.h"
#include "common/log/logger.h"

namespace weft::bench::modes {

absl::StatusOr<std::string> IptablesCapture::Iptables(std::vector<std::string> args) const {
  // -w: wait for the xtables lock instead of failing when another iptables runs.
  args.insert(args.begin(), {options_.iptables_binary, "-w", "5", "-t", "nat"});
  return RunCommandOk(args, options_.netns_path);
}

std::vector<std::string> IptablesCapture::JumpRule() const {
  return {"OUTPUT", "-p", "tcp", "-j", options_.chain};
}

absl::StatusOr<std::unique_ptr<IptablesCapture>> IptablesCapture::Install(
    const IptablesCaptureOptions& options) {
  if (options.netns_path.empty()) {
    return absl::InvalidArgumentError("iptables capture: netns_path is required");
  }
  if (options.redirect_port == 0) {
    return absl::InvalidArgumentError("iptables capture: redirect_port must not be 0");
  }
  std::unique_ptr<IptablesCapture> capture(new IptablesCapture(options));
  // -N fails when the chain exists: a leftover or another capture, which is not ours to
  // touch, so nothing is marked for removal until it succeeds.
  absl::StatusOr<std::string> created = capture->Iptables({"-N", options.chain});
  if (!created.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("iptables capture: ", created.status().message()));
  }
  capture->chain_created_ = true;
  std::vector<std::vector<std::string>> rules;
  rules.push_back({"-A", options.chain, "-m", "mark", "--mark", absl::StrCat(options.exclude_mark),
                   "-j", "RETURN"});
  for (const std::string& cidr : options.exclude_cidrs) {
    rules.push_back({"-A", options.chain, "-d", cidr, "-j", "RETURN"});
  }
  rules.push_back({"-A", options.chain, "-p", "tcp", "-j", "REDIRECT", "--to-ports",
                   absl::StrCat(options.redirect_port)});
  for (const std::vector<std::string>& rule : rules) {
    absl::StatusOr<std::string> added = capture->Iptables(rule);
    if (!added.ok()) return added.status();  // the destructor removes the chain
  }
  // The jump last: traffic is redirected only once the chain is complete.
  std::vector<std::string> jump = capture->JumpRule();
  jump.insert(jump.begin() + 1, "1");  // -I OUTPUT 1: ahead of rules others may have
  jump.insert(jump.begin(), "-I");
  absl::StatusOr<std::string> jumped = capture->Iptables(jump);
  if (!jumped.ok()) return jumped.status();
  capture->jump_added_ = true;
  return capture;
}

absl::Status IptablesCapture::Remove() {
  absl::Status first;
  if (jump_added_) {
    std::vector<std::string> jump = JumpRule();
    jump.insert(jump.begin(), "-D");
    absl::StatusOr<std::string> removed = Iptables(jump);
    if (removed.ok()) jump_added_ = false;
    first.Update(removed.status());
  }
  // The chain can go only once nothing jumps to it any more.
  if (chain_created_ && !jump_added_) {
    absl::StatusOr<std::string> flushed = Iptables({"-F", options_.chain});
    absl::StatusOr<std::string> deleted = flushed.ok() ? Iptables({"-X", options_.chain}) : flushed;
    if (deleted.ok()) chain_created_ = false;
    first.Update(deleted.status());
  }
  return first;
}

IptablesCapture::~IptablesCapture() {
  absl::Status removed = Remove();
  if (!removed.ok()) {
    weft::log::Error("iptables capture: cleanup failed",
                     {{"netns", options_.netns_path}, {"error", removed}});
  }
}

std::string IptablesCapture::Describe() const {
  std::vector<std::string> returns = {absl::StrCat("mark ", options_.exclude_mark)};
  returns.insert(returns.end(), options_.exclude_cidrs.begin(), options_.exclude_cidrs.end());
  return absl::StrCat("iptables-nft nat OUTPUT -p tcp -> ", options_.chain, " (RETURN for ",
                      absl::StrJoin(returns, ", "), "; REDIRECT to :", options_.redirect_port,
                      ") in ", options_.netns_path,
                      "; original destination from conntrack via SO_ORIGINAL_DST; IPv4 only; "
                      "same ztunnel and HBONE mTLS as `mesh`, no connect4 capture");
}

}  // namespace weft::bench::modes
