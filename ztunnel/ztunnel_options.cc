#include "ztunnel/ztunnel_options.h"

#include "absl/strings/str_cat.h"
#include "common/cli/flag_set.h"

namespace weft::ztunnel {
namespace {

absl::Status ParsePositiveDuration(const std::string& flag, const std::string& text,
                                   absl::Duration* out) {
  if (!absl::ParseDuration(text, out) || *out <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", text, ": expected a positive duration such as 24h or 10s"));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(const std::string& flag, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", value, ": expected ", lo, "-", hi));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ZtunnelOptions> ParseZtunnelOptions(const std::vector<std::string>& args) {
  ZtunnelOptions o;
  std::string log_level, log_format, cert_ttl, drain, connect_timeout, idle;
  cli::FlagSet flags("weft-ztunnel --node NAME [flags]",
                     "The weft node tunnel: per-pod listeners, mutual-TLS HBONE between nodes, "
                     "authoritative L4 authorization.");
  flags.String("node", &o.node, "", "name of the node this ztunnel serves (required)");
  flags.String("node-api-socket", &o.node_api_socket, "/run/weft/default/node-api.sock",
               "the agent's gRPC node API socket (config stream, certificates)");
  flags.String("netns-socket", &o.netns_socket, "/run/weft/default/netns.sock",
               "the agent's pod-netns channel socket");
  flags.String("admin-addr", &o.admin_addr, "127.0.0.1:15021",
               "address of the admin server (/metrics, /healthz, /readyz, /debug/pods)");
  flags.String("access-log", &o.access_log, "stdout",
               "where one JSON line per connection goes: stdout, stderr, a file, or off");
  flags.Int("workers", &o.workers, 0, "io_uring worker threads (0: one per online CPU)");
  flags.Int("mark", &o.mark, 1337,
            "SO_MARK of ztunnel's own sockets; must equal the agent's --ztunnel-mark");
  flags.String("cert-ttl", &cert_ttl, "24h",
               "requested certificate lifetime; certificates rotate at half of it");
  flags.String("drain-timeout", &drain, "30s",
               "on SIGTERM, how long established connections may finish before they are closed");
  flags.String("connect-timeout", &connect_timeout, "5s", "bound on every outbound connect");
  flags.String("pool-idle-timeout", &idle, "60s",
               "an HBONE connection without streams for this long is closed");
  flags.Int("max-streams-per-connection", &o.max_streams_per_connection, 100,
            "HBONE streams per pooled connection before another connection is opened");
  flags.Int("stream-window", &o.stream_window, 4 << 20, "HTTP/2 per-stream flow-control window");
  flags.Int("connection-window", &o.connection_window, 16 << 20,
            "HTTP/2 per-connection flow-control window");
  flags.String("log-level", &log_level, "info", "debug, info, warn or error");
  flags.String("log-format", &log_format, "text", "text or json (one JSON object per line)");
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
  // The log library names the value, not the flag: say which flag it came from.
  if (!level.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level: ", std::string(level.status().message())));
  }
  auto format = log::ParseFormat(log_format);
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-format: ", std::string(format.status().message())));
  }
  o.log_level = *level;
  o.log_format = *format;
  for (absl::Status s :
       {ParsePositiveDuration("cert-ttl", cert_ttl, &o.cert_ttl),
        ParsePositiveDuration("drain-timeout", drain, &o.drain_timeout),
        ParsePositiveDuration("connect-timeout", connect_timeout, &o.connect_timeout),
        ParsePositiveDuration("pool-idle-timeout", idle, &o.pool_idle_timeout),
        CheckRange("workers", o.workers, 0, 256), CheckRange("mark", o.mark, 0, 0xffffffffLL),
        CheckRange("max-streams-per-connection", o.max_streams_per_connection, 1, 1 << 20),
        CheckRange("stream-window", o.stream_window, 65535, (1LL << 31) - 1),
        CheckRange("connection-window", o.connection_window, 65535, (1LL << 31) - 1)}) {
    if (!s.ok()) return s;
  }
  if (o.node.empty()) return absl::InvalidArgumentError("--node is required");
  return o;
}

}  // namespace weft::ztunnel
