#include <fmt/format.h>

#include "commands.h"
#include "cvae/api.h"

namespace cvae::cli {

void add_fit_sampler(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "fit-sampler",
      "Fit the per-label latent mixture (generate --sampler gmm) of a trained model again");
  struct State {
    FitSamplerRequest req;
    DataOptions data;
  };
  auto s = std::make_shared<State>();
  auto& r = s->req;
  sub->add_option("--model", r.model, "Model file")->required();
  s->data.add(*sub, true);
  sub->add_option("--out", r.out, "Write the result here (default: rewrite --model atomically)");
  sub->add_option("--components", r.components, "Gaussian components per label")
      ->capture_default_str();
  sub->add_option("--fit-to", r.source,
                  "samples (one z ~ q(z|x,c) per example) or means (posterior means)")
      ->capture_default_str()
      ->check(CLI::IsMember({"samples", "means"}));
  sub->add_option("--seed", r.seed, "Random seed")->capture_default_str();
  sub->add_option("--threads", r.threads, "Threads (0 = all cores)")->capture_default_str();
  sub->callback([s] {
    s->req.data = s->data.resolve();
    FitSamplerResult res = fit_sampler(s->req);
    fmt::print("wrote {} ({} components per label, fitted to {} training examples)\n", res.path,
               res.components, res.examples);
  });
}

}  // namespace cvae::cli
