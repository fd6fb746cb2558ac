#include "lite/generate_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"

namespace cvae::lite {

void check_generate_request(const GenerateRequest& req) {
  if (req.n < 1 || req.n > 100000) {
    throw ConfigError(fmt::format("-n out of range (got {} vs expected 1..100000)", req.n));
  }
  if (req.format.empty()) {
    throw ConfigError("no --format given (expected auto or one the model's modality writes)");
  }
}

void check_sample_count(int64_t labels, int64_t n) {
  if (labels * n > 1000000) {
    throw ConfigError(fmt::format(
        "too many samples (got {} labels x {} vs expected at most 1000000)", labels, n));
  }
}

std::string generate_summary(const GenerateResult& r, int64_t n) {
  return fmt::format("wrote {} ({} samples: {} for each of {} label(s): {})",
                     fmt::join(r.files, " and "), r.count, n, r.labels.size(),
                     fmt::join(r.labels, " "));
}

}  // namespace cvae::lite
