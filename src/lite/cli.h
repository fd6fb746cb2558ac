// `cvae generate` without libtorch, for the requests the torch-free sampler
// covers (lite/mlp_sampler.h): an MLP image model with a Bernoulli likelihood,
// the prior sampler, one candidate per sample (--rerank 1), PNG or IDX output. The
// `cvae` launcher tries it first and otherwise hands the command line to the
// full program, which also reports every error: this path only runs requests
// it fully understands and that are valid.
#pragma once

#include <optional>

namespace cvae::lite {

// The exit status when the request was served here; nullopt when it needs the
// full program (another command, another option, another model, an error).
std::optional<int> try_generate(int argc, const char* const* argv);

}  // namespace cvae::lite
