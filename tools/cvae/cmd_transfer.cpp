#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.h"
#include "cvae/api.h"

namespace cvae::cli {

void add_transfer(CLI::App& app) {
  auto* sub = app.add_subcommand("transfer",
                                 "Encode real examples with their own label and decode them with "
                                 "other labels (style transfer)");
  struct State {
    TransferRequest req;
    DataOptions data;
  };
  auto s = std::make_shared<State>();
  auto& r = s->req;
  sub->add_option("--model", r.model, "Model file")->required();
  s->data.add(*sub, false);
  sub->add_option("--split", r.split, "test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  sub->add_option("--index", r.indices, "Example index(es) in the split, one row each")
      ->capture_default_str();
  sub->add_option(
      "--text", r.texts,
      "Text models: transfer this text (repeat for several) instead of --data examples");
  sub->add_option("--from-label", r.from_label,
                  "Text models: the label of --text (default: the label under which the model "
                  "explains it best)");
  add_decoding(*sub, r.decoding);
  sub->add_option("--temperature", r.temperature, "Text, --decode sample: softmax temperature")
      ->capture_default_str();
  sub->add_option("--seed", r.seed, "Text, --decode sample: random seed")->capture_default_str();
  sub->add_option("--to-label", r.to_labels, "Target label(s), or all")->capture_default_str();
  sub->add_option("--sampler", r.sampler,
                  "Latent map between labels: gmm (through the labels' fitted mixtures), prior, "
                  "or auto (gmm when the model has one)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "prior", "gmm"}));
  sub->add_option("--format", r.format,
                  "png (per row: the original, then one image per target) or idx (the "
                  "transferred images and their target labels); other modalities say which they "
                  "write")
      ->capture_default_str();
  sub->add_option("--out", r.out,
                  "Output file (png; default transfer.png) or prefix (idx); text: a TSV file "
                  "(default: the terminal)");
  sub->add_option("--threads", r.threads, "Threads (0 = all cores)")->capture_default_str();
  sub->callback([s] {
    if (!s->data.cfg.path.empty() || s->req.texts.empty()) s->req.data = s->data.resolve();
    TransferResult res = transfer(s->req);
    if (!res.texts.empty()) {
      const size_t t = res.target_labels.size();
      for (size_t i = 0; i < res.source_texts.size(); ++i) {
        fmt::print("{}\t{}\n", res.source_labels[i], res.source_texts[i]);
        for (size_t j = 0; j < t; ++j)
          fmt::print("  -> {}\t{}\n", res.target_labels[j], res.texts[i * t + j]);
      }
      if (!res.files.empty()) fmt::print("wrote {}\n", res.files[0]);
      return;
    }
    fmt::print("wrote {} (source label(s) {}; targets {})\n", fmt::join(res.files, " and "),
               fmt::join(res.source_labels, " "), fmt::join(res.target_labels, " "));
  });
}

}  // namespace cvae::cli
