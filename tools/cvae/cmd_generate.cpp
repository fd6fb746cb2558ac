#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.h"
#include "cvae/api.h"
#include "serve/generate_output.h"

namespace cvae::cli {

void add_generate(CLI::App& app) {
  auto* sub = app.add_subcommand("generate", "Generate new examples for the labels you choose");
  auto r = std::make_shared<GenerateRequest>();
  sub->add_option("--model", r->model, "Model file")->required();
  sub->add_option(
         "--label", r->labels,
         "Label name(s): '3', '3,5,7' or 'all' (several conditions: 'name=value+name=value')")
      ->capture_default_str();
  sub->add_option("-n,--count", r->n, "Samples per label")->capture_default_str();
  sub->add_option("--temperature", r->temperature,
                  "Images: scale of the sampler's standard deviation. Text: softmax temperature "
                  "of --decode sample (-1 = images 1.4, text 1)")
      ->capture_default_str();
  sub->add_option("--latent-temperature", r->latent_temperature,
                  "Scale of the sampler's standard deviation (default: images --temperature, "
                  "text 1)");
  sub->add_option("--sampler", r->sampler,
                  "Latent sampler: gmm (mixture fitted to the encoded training data per label), "
                  "prior (p(z|c)), or auto (gmm when the model has one)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "prior", "gmm"}));
  sub->add_option("--seed", r->seed, "Random seed (same seed, same output)")->capture_default_str();
  sub->add_flag("--sample-pixels", r->sample_pixels,
                "Draw pixels from p(x|z,c) instead of showing its mean");
  add_decoding(*sub, r->decoding);
  sub->add_option("--format", r->format,
                  "png (grid: one row per label; a square grid for one label), idx, tsv (text: "
                  "label<TAB>text lines), or auto (png for images, tsv for text)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "png", "idx", "tsv"}));
  sub->add_option("--out", r->out,
                  "Output file (png, tsv) or prefix (idx); default: images samples.png, text "
                  "the terminal");
  sub->add_option("--threads", r->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->callback([r] {
    GenerateResult res = generate(*r);
    if (!res.texts.empty() && res.files.empty()) {
      for (size_t i = 0; i < res.texts.size(); ++i)
        fmt::print("{}\t{}\n", res.text_labels[i], res.texts[i]);
      return;
    }
    fmt::print("{}\n", serve::generate_summary(res, r->n));
  });
}

}  // namespace cvae::cli
