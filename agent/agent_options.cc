#include "agent/agent_options.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/cli/flag_set.h"

namespace weft::agent {

absl::StatusOr<AgentOptions> ParseAgentOptions(const std::vector<std::string>& args) {
  AgentOptions o;
  std::string log_level, log_format, cert_max_ttl;
  cli::FlagSet flags("weft-agent --node NAME --config FILE [flags]",
                     "The weft node agent: reads the cluster config, enrolls pods and owns the "
                     "node's BPF programs.");
  flags.String("node", &o.node, "", "name of the node this agent serves (required)");
  flags.String("config", &o.config_path, "",
               "cluster config file (YAML or JSON), watched for changes (required)");
  flags.String("cgroup-root", &o.cgroup_root, "",
               "cgroup v2 directory holding this node's pods (empty: the cgroup2 mount point)");
  flags.String("bpffs", &o.bpffs, "/sys/fs/bpf",
               "BPF filesystem; programs and maps are pinned under <bpffs>/weft/<instance>/");
  flags.String("instance", &o.instance, "default",
               "name of this agent instance, unique per kernel (a-z, 0-9, '-')");
  flags.String("admin-addr", &o.admin_addr, "127.0.0.1:15020",
               "address of the admin server (/metrics, /healthz, /readyz, /debug/config)");
  flags.String("getsockopt-cgroup", &o.getsockopt_cgroup, "",
               "cgroup v2 directory holding ztunnel, where SO_ORIGINAL_DST is answered "
               "(empty: --cgroup-root)");
  flags.String("node-api-socket", &o.node_api_socket, "/run/weft/<instance>/node-api.sock",
               "unix socket of the gRPC node API served to ztunnel");
  flags.String("netns-socket", &o.netns_socket, "/run/weft/<instance>/netns.sock",
               "unix socket on which pod network namespaces are handed to ztunnel; a pod is "
               "captured once ztunnel acknowledges it (empty: no ztunnel hand-off, a pod is "
               "captured once something listens on --outbound-port in it)");
  flags.String("ca-dir", &o.ca_dir, "/var/lib/weft/<instance>/ca",
               "directory of the local CA's root, ca.key (0600) and ca.crt; created 0700");
  flags.String("cert-max-ttl", &cert_max_ttl, "24h",
               "longest lifetime of a certificate issued to ztunnel (e.g. 24h, 90m)");
  flags.Int("outbound-port", &o.outbound_port, 15001,
            "port captured connections are sent to (127.0.0.1 / ::1 in the pod netns)");
  flags.Int("ztunnel-mark", &o.ztunnel_mark, 1337,
            "SO_MARK of ztunnel's own sockets, which are never captured (0: none)");
  // Off by default: on this kernel a blocking recv() on a socket in the SOCKHASH returns
  // EAGAIN when woken without data (e.g. by the ACK of its own FIN after shutdown(SHUT_WR)),
  // which breaks applications that never expect EAGAIN from a blocking socket.
  flags.Bool("loopback-short-circuit", &o.loopback_short_circuit, false,
             "move bytes between enrolled pods' apps and ztunnel over loopback with "
             "sockops + sk_msg instead of the TCP stack (faster; see agent/README.md for "
             "why it is off by default)");
  flags.String("log-level", &log_level, "info", "debug, info, warn or error");
  flags.String("log-format", &log_format, "text", "text or json (one JSON object per line)");
  flags.Bool("uninstall", &o.uninstall, false,
             "remove everything this instance pinned under the BPF filesystem, then exit");
  auto positional = flags.Parse(args);
  o.usage = flags.Usage();
  o.help = flags.help_requested();
  if (o.help) return o;
  if (!positional.ok()) return positional.status();
  if (!positional->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", positional->front(), "\" (see --help)"));
  }
  auto level = log::ParseLevel(log_level);
  if (!level.ok()) return absl::InvalidArgumentError(absl::StrCat("--", level.status().message()));
  auto format = log::ParseFormat(log_format);
  if (!format.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", format.status().message()));
  }
  if (!absl::ParseDuration(cert_max_ttl, &o.cert_max_ttl) ||
      o.cert_max_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--cert-max-ttl ", cert_max_ttl, ": expected a positive duration such as 24h or 90m"));
  }
  // Per-instance paths, so several lab nodes on one kernel never share a socket or a CA.
  for (std::string* path : {&o.node_api_socket, &o.netns_socket, &o.ca_dir}) {
    *path = absl::StrReplaceAll(*path, {{"<instance>", o.instance}});
  }
  o.log_level = *level;
  o.log_format = *format;
  if (o.outbound_port < 1 || o.outbound_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--outbound-port ", o.outbound_port, ": expected 1-65535"));
  }
  if (o.ztunnel_mark < 0 || o.ztunnel_mark > 0xffffffffLL) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ztunnel-mark ", o.ztunnel_mark, ": expected 0-4294967295"));
  }
  if (o.uninstall) return o;
  if (o.node.empty()) return absl::InvalidArgumentError("--node is required");
  if (o.config_path.empty()) return absl::InvalidArgumentError("--config is required");
  return o;
}

}  // namespace weft::agent
