#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.h"
#include "cvae/api.h"
#include "lite/generate_options.h"
#include "lite/generate_output.h"

namespace cvae::cli {

void add_generate(CLI::App& app) {
  auto* sub = app.add_subcommand("generate", "Generate new examples for the labels you choose");
  auto r = std::make_shared<GenerateRequest>();
  // The same options as the launcher's torch-free generate (lite/cli.h).
  lite::add_generate_options(*sub, *r);
  sub->callback([r] {
    GenerateResult res = generate(*r);
    if (!res.texts.empty() && res.files.empty()) {
      for (size_t i = 0; i < res.texts.size(); ++i)
        fmt::print("{}\t{}\n", res.text_labels[i], res.texts[i]);
      return;
    }
    fmt::print("{}\n", lite::generate_summary(res, r->n));
  });
}

}  // namespace cvae::cli
