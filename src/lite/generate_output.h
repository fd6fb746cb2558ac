// The torch-free parts of cvae::generate: checking a request and the summary
// line. The launcher's torch-free generate (lite/cli.h) uses the same, so both
// check and report alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvae/api.h"
#include "io/labels.h"

namespace cvae::lite {

// -n within 1..100000 and a --format given (ConfigError); which formats fit is
// the model's modality's to say (Modality::Defaults::formats).
void check_generate_request(const GenerateRequest& req);
// At most 1,000,000 samples: `labels` label rows x n each (ConfigError).
void check_sample_count(int64_t labels, int64_t n);

// "wrote FILES (COUNT samples: n for each of M label(s): NAMES)"
std::string generate_summary(const GenerateResult& r, int64_t n);

}  // namespace cvae::lite
