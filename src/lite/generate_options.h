// The options of `cvae generate`, defined once for both of its parsers: the
// full program's sub-command (tools/cvae/cmd_generate.cpp) and the launcher's
// torch-free generate (lite/cli.h), which reads the command line with the same
// table before deciding whether it can serve it. Torch-free: CLI11 is
// header-only.
#pragma once

#include "cvae/api.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cvae::lite {

// --decode, --top-k, --top-p, --beam and --rerank into d: text decoding and the
// reranking of candidates (generate, eval, transfer and interpolate).
void add_decoding_options(CLI::App& sub, TextDecoding& d);

// Every option of `cvae generate` into r, with r's values as the defaults
// --help shows, and CLI11's checks (--model required, --sampler and --format
// from their lists). The values are written into r as the command line is parsed.
void add_generate_options(CLI::App& sub, GenerateRequest& r);

}  // namespace cvae::lite
