#include "bench/loadgen/load_client.h"

#include "bench/loadgen/bulk_run.h"
#include "bench/loadgen/framed_exchange_run.h"

namespace weft::loadgen {

absl::StatusOr<RunReport> RunClient(const ClientOptions& options) {
  switch (options.scenario) {
    case Scenario::kRequestResponse:
    case Scenario::kConnectionRate:
      return RunFramedExchange(options);
    case Scenario::kBulk:
      return RunBulk(options);
  }
  return absl::InvalidArgumentError("unknown scenario");
}

}  // namespace weft::loadgen
