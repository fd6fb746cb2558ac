#include <cmath>

#include <fmt/format.h>

#include "commands.h"
#include "core/atomic_file.h"
#include "cvae/api.h"

namespace cvae::cli {

void add_eval(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "eval", "Evaluate a model: -ELBO, importance-sampled -log p(x|c), KL, active units");
  struct State {
    EvalRequest req;
    DataOptions data;
    std::string json;
  };
  auto s = std::make_shared<State>();
  auto& r = s->req;
  sub->add_option("--model", r.model, "Model file")->required();
  s->data.add(*sub, true);
  sub->add_option("--split", r.split, "test, train or val")->capture_default_str();
  sub->add_option("--iw-samples", r.iw_samples,
                  "Importance samples K for -log p(x|c) (0 = skip; -1 = 1000 for images, 100 for "
                  "text)")
      ->capture_default_str();
  sub->add_option("--batch-size", r.batch_size, "Examples per batch")->capture_default_str();
  sub->add_option("--limit", r.limit, "Evaluate only the first N examples (0 = all)")
      ->capture_default_str();
  sub->add_option("--seed", r.seed, "Random seed")->capture_default_str();
  sub->add_option("--threads", r.threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--json", s->json, "Also write the results as JSON to this file");
  sub->add_option("--judge", r.judge,
                  "Classifier file (cvae classifier train): also measure conditional accuracy, "
                  "diversity and transfer accuracy of generated samples");
  sub->add_option("--samples-per-label", r.samples_per_label,
                  "With --judge: samples generated per label")
      ->capture_default_str();
  sub->add_option("--sampler", r.sampler, "With --judge: auto, prior or gmm (as generate)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "prior", "gmm"}));
  sub->add_option("--temperature", r.temperature,
                  "With --judge: images: sampler temperature; text: softmax temperature of "
                  "--decode sample (-1 = images 1.4, text 1)")
      ->capture_default_str();
  sub->add_option("--latent-temperature", r.latent_temperature,
                  "With --judge: sampler temperature (default: images --temperature, text 1)");
  add_decoding(*sub, r.decoding);
  sub->add_option("--transfer-examples", r.transfer_examples,
                  "With --judge: examples transferred to every other label (0 = skip)")
      ->capture_default_str();
  sub->add_flag("--baselines", r.baselines,
                "Item sets: also rank the same users by popularity and EASE (its lambda chosen "
                "on the validation users)");
  sub->callback([s] {
    auto& req = s->req;
    req.data = s->data.resolve();
    EvalResult e = evaluate(req);
    fmt::print("{} split of {}: {} examples, nats per example\n", req.split, req.data.path, e.n);
    fmt::print("  -ELBO                 {:10.3f}\n", e.neg_elbo);
    fmt::print("    reconstruction      {:10.3f}\n", e.recon);
    fmt::print("    KL                  {:10.3f}\n", e.kl);
    if (e.iw_samples > 0) fmt::print("  -log p(x|c), K={:<6}{:10.3f}\n", e.iw_samples, e.iw_nll);
    if (std::isfinite(e.perplexity)) {
      fmt::print("  word perplexity       {:10.3f} ({} tokens: words and <eos>; from {})\n",
                 e.perplexity, e.tokens, e.iw_samples > 0 ? "-log p(x|c)" : "-ELBO");
    }
    fmt::print("  active units          {:>6} of {}\n", e.active_units, e.kl_per_dim.size());
    std::string dims;
    for (size_t i = 0; i < e.kl_per_dim.size(); ++i)
      dims += fmt::format("{}{:.2f}", i ? " " : "", e.kl_per_dim[i]);
    fmt::print("  KL per dimension      {}\n", dims);
    if (std::isfinite(e.classifier_accuracy)) {
      fmt::print("  q(y|x) accuracy       {:10.4f} (classification error {:.4f})\n",
                 e.classifier_accuracy, 1.0 - e.classifier_accuracy);
    }
    for (const auto& [name, value] : e.figures) fmt::print("  {:<28}{:10.4f}\n", name, value);
    fmt::print("{}", fidelity_report(e, req));
    fmt::print("  time                  {:.1f} s\n", e.seconds);
    if (!s->json.empty()) {
      core::write_file_atomic(s->json, eval_to_json(e, req));
      fmt::print("wrote {}\n", s->json);
    }
  });
}

}  // namespace cvae::cli
