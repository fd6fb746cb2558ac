#include <cmath>

#include <fmt/format.h>

#include "commands.h"
#include "cvae/api.h"
#include "cvae/errors.h"

namespace cvae::cli {

void add_train(CLI::App& app) {
  auto* sub = app.add_subcommand("train", "Train a conditional VAE on labelled data");
  struct State {
    TrainRequest req;
    DataOptions data;
    std::string hidden = "256";
    std::string channels = "32,64";
    std::string progress = "auto";
  };
  auto s = std::make_shared<State>();
  auto& r = s->req;
  s->data.add(*sub, true);
  sub->add_option(
      "--out", r.out,
      "Model file to write (atomically, at every epoch); default with --resume: that file");
  sub->add_option("--resume", r.resume,
                  "Continue the run saved in this model file (config and state come from it)");
  auto* epochs =
      sub->add_option("--epochs", r.train.epochs,
                      "Total epochs (with --resume: the new total; item sets: 100 unless given)")
          ->capture_default_str();
  sub->add_option("--batch-size", r.train.batch_size,
                  "Examples per step (item sets: 128 unless given)")
      ->capture_default_str();
  sub->add_option("--lr", r.train.lr, "Adam learning rate (item sets: 0.003 unless given)")
      ->capture_default_str();
  sub->add_option("--hidden", s->hidden,
                  "Hidden layer widths, comma-separated (conv: after the convolutions; rnn: the "
                  "GRU state, one width); the decoder mirrors them (item sets: 600 unless given)")
      ->capture_default_str();
  sub->add_option("--conv-channels", s->channels,
                  "conv: channels of each stride-2 convolution, comma-separated")
      ->capture_default_str();
  sub->add_option("--latent", r.model.latent, "Latent dimensions Z (item sets: 200 unless given)")
      ->capture_default_str();
  sub->add_option("--arch", r.model.arch,
                  "Encoder/decoder: conv, mlp, rnn (text: GRUs), multvae (item sets), or auto (rnn "
                  "for text, multvae for item sets, conv for images, else mlp)")
      ->capture_default_str()
      ->check(CLI::IsMember(with_auto(arch_names())));
  sub->add_option(
         "--likelihood", r.model.likelihood,
         "p(x|z,c): bernoulli, cbernoulli (continuous Bernoulli), gaussian (learned "
         "variance), categorical (text), multinomial (item sets), or auto (categorical for "
         "text, multinomial for item sets, else bernoulli)")
      ->capture_default_str()
      ->check(CLI::IsMember(
          {"auto", "bernoulli", "cbernoulli", "gaussian", "categorical", "multinomial"}));
  sub->add_option("--embedding", r.model.embedding, "rnn: token embedding size")
      ->capture_default_str();
  sub->add_option("--word-dropout", r.model.word_dropout,
                  "rnn: share of the decoder's previous-word inputs replaced by <unk> in training")
      ->capture_default_str();
  sub->add_option(
         "--prior", r.model.prior,
         "p(z|c): standard (N(0,I)) or learned (per label; item sets: standard unless given)")
      ->capture_default_str()
      ->check(CLI::IsMember({"standard", "learned"}));
  sub->add_option("--beta", r.train.beta, "Weight of the KL term (item sets: 0.2 unless given)")
      ->capture_default_str();
  sub->add_option(
         "--kl-warmup", r.train.kl_warmup,
         "Epochs over which the KL weight rises from 0 to --beta (item sets: half of --epochs "
         "unless given)")
      ->capture_default_str();
  sub->add_option("--kl-cycles", r.train.kl_cycles,
                  "Cyclical KL schedule: number of cycles over the run (0 = off)")
      ->capture_default_str();
  sub->add_option("--kl-cycle-ratio", r.train.kl_cycle_ratio,
                  "Share of each cycle over which the KL weight rises to --beta")
      ->capture_default_str();
  sub->add_option("--free-bits", r.train.free_bits,
                  "KL floor per latent dimension in nats (batch mean; 0 = off; -1 = 0.5 for text, "
                  "0 for images)")
      ->capture_default_str();
  sub->add_option(
         "--gmm-components", r.train.gmm_components,
         "Components of the per-label latent mixture fitted after training (0 = none; item "
         "sets: 0 unless given)")
      ->capture_default_str();
  sub->add_option("--labelled", r.train.labelled,
                  "Semi-supervised (M2): keep the labels of this many training examples "
                  "(stratified) and use the rest unlabelled (0 = all labelled)")
      ->capture_default_str();
  sub->add_option("--ssl-alpha", r.train.ssl_alpha,
                  "Semi-supervised: weight of q(y|x)'s cross-entropy (0 = 0.1 * unlabelled / "
                  "labelled)")
      ->capture_default_str();
  sub->add_option("--grad-clip", r.train.grad_clip,
                  "Clip the global gradient norm to this (0 = off)")
      ->capture_default_str();
  sub->add_option("--val-fraction", r.train.val_fraction,
                  "Share of the training split held out for validation")
      ->capture_default_str();
  sub->add_option("--save-every", r.train.save_every,
                  "Also save every N steps (0 = at the end of each epoch only)")
      ->capture_default_str();
  sub->add_option("--threads", r.train.threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--engine", r.engine,
                  "Training step: fused (hand-written MLP forward and backward, each layer split "
                  "across the threads; needs --arch mlp --prior standard, a Bernoulli likelihood, "
                  "no free bits, all labels), autograd (any model), or auto (fused when the model "
                  "allows it)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "fused", "autograd"}));
  sub->add_option("--seed", r.train.seed, "Random seed (initialisation, shuffling, noise)")
      ->capture_default_str();
  sub->add_option("--metrics", r.metrics,
                  "JSON-lines metrics file (default: beside --out, *.metrics.jsonl)");
  sub->add_option("--progress", s->progress, "auto (bar on a terminal), bar, plain or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bar", "plain", "none"}));
  sub->callback([s, epochs, sub] {
    auto& req = s->req;
    if (req.out.empty() && req.resume.empty())
      throw ConfigError("no output path given (expected --out FILE)");
    req.data = s->data.resolve();
    req.model.hidden = parse_int_list("--hidden", s->hidden);
    req.model.channels = parse_int_list("--conv-channels", s->channels);
    if (!req.resume.empty() && epochs->count() > 0) req.resume_epochs = req.train.epochs;
    req.progress = s->progress == "auto" ? -1 : s->progress == "bar" ? 1 : 0;
    // What the user gave: the rest may take the data's modality's own defaults.
    req.given.emplace();
    for (const CLI::Option* o : sub->get_options())
      if (o->count() > 0) req.given->push_back(o->get_single_name());
    req.quiet = s->progress == "none";
    TrainResult res = train(req);
    if (res.interrupted) {
      fmt::print("interrupted after {} steps ({} epochs complete); saved {}\n", res.steps,
                 res.epochs_done, res.model_path);
      fmt::print("continue with: cvae train --resume {} --data {}\n", res.model_path,
                 req.data.path);
      std::exit(130);
    }
    fmt::print("wrote {} ({} epochs, {} steps; best validation loss {:.3f} nats)\n", res.model_path,
               res.epochs_done, res.steps, res.best_val_loss);
    fmt::print("metrics in {}\n", res.metrics_path);
  });
}

}  // namespace cvae::cli
