#include <fmt/format.h>

#include "commands.h"
#include "cvae/api.h"

namespace cvae::cli {

void add_interpolate(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "interpolate",
      "Walk between two latent points for one label, or between two labels at one latent point");
  auto r = std::make_shared<InterpolateRequest>();
  sub->add_option("--model", r->model, "Model file")->required();
  sub->add_option("--label", r->label,
                  "Label of the latent walk (text with --from-text: the texts' label; default "
                  "the label that explains each best)");
  sub->add_option("--from-text", r->from_text, "Text models: walk from this text's code...");
  sub->add_option("--to-text", r->to_text, "...to this text's code");
  add_decoding(*sub, r->decoding);
  sub->add_option("--to-label", r->to_label,
                  "Also walk from --label to this label at a fixed latent point");
  sub->add_option("--steps", r->steps, "Images per walk")->capture_default_str();
  sub->add_option("--rows", r->rows, "Independent walks")->capture_default_str();
  sub->add_option("--temperature", r->temperature,
                  "Scale of the sampler's standard deviation for the end points")
      ->capture_default_str();
  sub->add_option("--sampler", r->sampler, "End points from: auto, prior or gmm (as generate)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "prior", "gmm"}));
  sub->add_option("--seed", r->seed, "Random seed")->capture_default_str();
  sub->add_option("--out", r->out,
                  "Output PNG (default interp.png); text: a TSV file (default: the terminal)");
  sub->add_option("--threads", r->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->callback([r] {
    InterpolateResult res = interpolate(*r);
    if (!res.texts.empty() && res.files.empty()) {
      for (const auto& t : res.texts) fmt::print("{}\n", t);
      return;
    }
    fmt::print("wrote {}\n", res.files.at(0));
  });
}

}  // namespace cvae::cli
