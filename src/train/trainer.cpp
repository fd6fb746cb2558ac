// The training loop: Adam on -ELBO with a KL warm-up, validation every epoch,
// the best model by validation kept, atomic saves, exact resume and a guard
// against non-finite losses.
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/runtime.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/modality.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"
#include "models/model_file.h"
#include "train/flat_adam.h"
#include "train/fused_mlp.h"
#include "train/kl_schedule.h"
#include "train/latent_fit.h"

namespace fs = std::filesystem;

namespace cvae {
namespace {

std::atomic<int> g_signal{0};
extern "C" void on_stop_signal(int sig) { g_signal.store(sig); }

// Installs SIGINT/SIGTERM handlers for the lifetime of a training run, so a
// stop request ends the current step, saves, and returns.
class SignalScope {
 public:
  SignalScope() {
    g_signal.store(0);
    old_int_ = std::signal(SIGINT, on_stop_signal);
    old_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~SignalScope() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

std::string rng_to_string(const std::mt19937_64& rng) {
  std::ostringstream os;
  os << rng;
  return os.str();
}

void rng_from_string(std::mt19937_64& rng, const std::string& s, const std::string& path) {
  std::istringstream is(s);
  is >> rng;
  if (is.fail())
    throw CheckpointError(fmt::format("model file '{}' has an unreadable shuffle state", path));
}

// Checks early that the output directory exists (creating it) and is writable,
// so a run does not fail only when it first saves.
void prepare_output(const std::string& out) {
  core::create_parent_dirs(out);
  const fs::path parent = fs::path(out).parent_path();
  std::error_code ec;
  if (fs::is_directory(out))
    throw IoError(fmt::format("output '{}' is a directory (expected a file path)", out));
  // Temporaries left by a process that was killed while saving (FILE.tmp.PID of
  // a PID that no longer runs) are removed.
  const std::string stem = fs::path(out).filename().string() + ".tmp.";
  const fs::path dir = parent.empty() ? fs::path(".") : parent;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(stem, 0) != 0) continue;
    const std::string pid = name.substr(stem.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    errno = 0;
    const long long id = std::strtoll(pid.c_str(), nullptr, 10);
    if (errno != 0 || id <= 0 || id > std::numeric_limits<pid_t>::max()) continue;
    if (::kill(static_cast<pid_t>(id), 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
  }
  const std::string probe = out + ".probe";
  core::write_file_atomic(probe, std::string("probe"));
  fs::remove(probe, ec);
}

struct Sums {
  double loss = 0, recon = 0, kl = 0;
  int64_t n = 0;
  void add(const models::LossTerms& t, double beta) {
    add(t.loss_recon.sum().item<double>(), t.loss_kl.sum().item<double>(), t.loss_recon.size(0),
        beta);
  }
  // Sums over a batch of `examples`.
  void add(double r, double k, int64_t examples, double beta) {
    recon += r;
    kl += k;
    loss += r + beta * k;
    n += examples;
  }
  double mean(double v) const { return n ? v / static_cast<double>(n) : std::nan(""); }
};

// -ELBO on a dataset with fixed noise (so epochs are comparable). beta as in
// training. active_units: latent dimensions whose posterior mean varies across
// the data (Cov_x(E_q[z_d]) > 0.01, Burda et al. 2016).
Sums evaluate_loss(models::CVAEImpl& model, const data::Dataset& d, int64_t batch, double beta,
                   uint64_t seed, int64_t* active_units = nullptr) {
  torch::NoGradGuard no_grad;
  Sums s;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<torch::Tensor> mus;
  for (int64_t start = 0; start < d.size(); start += batch) {
    const int64_t end = std::min(start + batch, d.size());
    auto x = d.x.slice(0, start, end);
    auto c = data::encode_conditions(d.conditions, d.y.slice(0, start, end));
    auto eps = torch::randn({end - start, model.latent()}, gen);
    auto terms = models::elbo_loss(model, x, c, eps, beta);
    s.add(terms, beta);
    if (active_units) mus.push_back(terms.mu);
  }
  if (active_units) *active_units = models::active_units(torch::cat(mus, 0));
  return s;
}

std::string default_metrics_path(const std::string& out) {
  fs::path p(out);
  return (p.parent_path() / (p.stem().string() + ".metrics.jsonl")).string();
}

}  // namespace

TrainResult train(const TrainRequest& req) {
  if (req.out.empty() && req.resume.empty())
    throw ConfigError("no output path given (expected --out FILE)");
  const std::string out = req.out.empty() ? req.resume : req.out;

  models::ModelFile prev;
  const bool resuming = !req.resume.empty();
  ModelConfig mcfg = req.model;
  TrainConfig tcfg = req.train;
  if (resuming) {
    prev = models::load_model_file(req.resume);
    if (!prev.resume) {
      throw CheckpointError(
          fmt::format("model file '{}' has no training state to resume from", req.resume));
    }
    mcfg = prev.model;
    const int threads = tcfg.threads;
    tcfg = prev.train;
    // The thread count changes the order of floating-point reductions, so an
    // exact resume uses the count the run was saved with unless told otherwise.
    tcfg.threads = threads > 0 ? threads : prev.state.threads_used;
    if (req.resume_epochs > 0) tcfg.epochs = req.resume_epochs;
    if (tcfg.epochs < prev.state.epochs_done) {
      throw ConfigError(
          fmt::format("--epochs is below the epochs already trained in '{}' (got {} vs expected at "
                      "least {})",
                      req.resume, tcfg.epochs, prev.state.epochs_done));
    }
  }
  tcfg.validate();
  if (req.engine != "auto" && req.engine != "fused" && req.engine != "autograd") {
    throw ConfigError(fmt::format(
        "unknown --engine (got '{}' vs expected one of: auto, fused, autograd)", req.engine));
  }
  const int threads_used = core::set_threads(tcfg.threads);
  if (resuming && prev.state.threads_used > 0 && threads_used != prev.state.threads_used &&
      !req.quiet) {
    fmt::print(stderr,
               "note: resuming with {} threads (saved with {}); results may differ in the last "
               "bits from an uninterrupted run\n",
               threads_used, prev.state.threads_used);
  }

  // A resumed model reads its data as it was built to (text: with its vocabulary).
  data::Dataset all = resuming ? modalities::load_dataset_for(req.data, "train", mcfg.modality,
                                                              mcfg.input_shape, mcfg.vocabulary)
                               : modalities::load_dataset(req.data, "train");
  const modalities::Modality& modality = modalities::modality(all.modality);
  if (resuming) {
    data::check_compatible(all, mcfg.input_shape, mcfg.conditions);
  } else {
    mcfg.modality = all.modality;
    mcfg.input_shape = all.example_shape();
    mcfg.conditions = all.conditions;
    modality.configure(mcfg, all);
  }
  mcfg = models::resolve_model_config(mcfg);  // modality, arch and likelihood stored resolved
  if (tcfg.free_bits < 0) tcfg.free_bits = modality.defaults().free_bits;  // auto, stored resolved
  models::make_likelihood(mcfg.likelihood, static_cast<int64_t>(mcfg.vocabulary.size()))
      ->check_support(all.x, all.source);
  const std::string data_source = all.source;
  // What the modality keeps of the training data for evaluation (text: which
  // token sequences the file holds, to count generated texts copied from it).
  const std::string train_hashes =
      resuming ? prev.train_sequences : modality.training_fingerprint(all);
  auto [train_set, val_set] = data::split_validation(all, tcfg.val_fraction, tcfg.seed);
  all = data::Dataset();  // the split holds its own copies: free the whole set
  prepare_output(out);
  if (!req.metrics.empty()) prepare_output(req.metrics);

  // Semi-supervised: the labelled examples are a seeded, stratified subset of the
  // training split (so a resume finds the same); epochs go over the others.
  const bool ssl = tcfg.labelled > 0;
  torch::Tensor labelled_idx, epoch_idx;
  if (ssl) {
    if (mcfg.conditions.size() != 1) {
      throw ConfigError(
          fmt::format("--labelled needs data with one condition (got {})", mcfg.conditions.size()));
    }
    if (tcfg.labelled >= train_set.size()) {
      throw ConfigError(fmt::format(
          "--labelled out of range (got {} vs expected 1..{}, fewer than the {} training examples)",
          tcfg.labelled, train_set.size() - 1, train_set.size()));
    }
    mcfg.classifier = true;
    labelled_idx = data::stratified_subset(train_set, tcfg.labelled, tcfg.seed);
    auto keep = torch::ones({train_set.size()}, torch::kBool);
    keep.index_fill_(0, labelled_idx, false);
    epoch_idx = torch::nonzero(keep).view({-1});
  } else {
    epoch_idx = torch::arange(train_set.size(), torch::kInt64);
  }
  const double ssl_alpha =
      tcfg.ssl_alpha > 0 ? tcfg.ssl_alpha
      : ssl ? 0.1 * static_cast<double>(epoch_idx.size(0)) / static_cast<double>(tcfg.labelled)
            : 0.0;

  torch::manual_seed(tcfg.seed);  // parameter initialisation
  models::CVAE model(mcfg);
  optim::FlatAdam opt(*model, tcfg.lr);
  const std::string unfused = training::fused_mlp_unsupported(mcfg, tcfg);
  if (req.engine == "fused" && !unfused.empty())
    throw ConfigError(fmt::format("--engine fused cannot train this model: {}", unfused));
  std::unique_ptr<training::FusedMLPStep> fused;
  if (req.engine != "autograd" && unfused.empty()) {
    fused = std::make_unique<training::FusedMLPStep>(*model, opt, threads_used);
    train_set.x = train_set.x.contiguous();  // the step reads rows in place
    train_set.y = train_set.y.contiguous();
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(tcfg.seed);
  // Decoder randomness (word dropout) draws from the run's generator, whose state
  // resumes with the run.
  model->set_generator(&gen);
  std::mt19937_64 shuffle_rng(tcfg.seed);

  models::TrainingState st;
  std::string best_weights;
  if (resuming) {
    const std::string what = fmt::format("model file '{}'", req.resume);
    models::module_from_bytes(*model, prev.resume->weights, what);
    opt.load_state_bytes(prev.resume->optimizer, what);
    models::generator_from_bytes(gen, prev.resume->generator, what);
    st = prev.state;  // the epoch loop restores the shuffle state from st.shuffle_rng
    best_weights = prev.weights;
  } else {
    st.shuffle_rng = rng_to_string(shuffle_rng);
  }
  st.threads_used = threads_used;
  st.data_source = data_source;
  st.train_examples = train_set.size();
  st.val_examples = val_set.size();

  const int64_t n = epoch_idx.size(0);  // examples per epoch (semi-supervised: the unlabelled)
  const int64_t bs = std::min(tcfg.batch_size, n);
  const int64_t steps_per_epoch = (n + bs - 1) / bs;
  auto beta_at = [&](int64_t step) { return training::kl_weight(tcfg, step, steps_per_epoch); };
  std::string mixture = resuming ? prev.latent_mixture : std::string();

  auto save = [&]() {
    if (fused) fused->flush();  // the weights and moments of every step taken
    models::ModelFile f;
    f.model = mcfg;
    f.train = tcfg;
    f.state = st;
    f.weights = best_weights.empty() ? models::module_to_bytes(*model) : best_weights;
    f.latent_mixture = mixture;
    f.train_sequences = train_hashes;
    f.resume = models::ResumeState{models::module_to_bytes(*model), opt.state_bytes(),
                                   models::generator_to_bytes(gen)};
    models::save_model_file(out, f);
  };

  TrainResult result;
  result.model_path = out;
  result.metrics_path = req.metrics.empty() ? default_metrics_path(out) : req.metrics;
  // Opened at the first epoch's end, so a run that fails before then leaves an
  // earlier metrics file alone; a fresh run then replaces it, a resumed one appends.
  std::ofstream metrics;
  auto write_metrics = [&](const nlohmann::json& line) {
    if (!metrics.is_open()) {
      const bool append = resuming && prev.state.epochs_done > 0;
      metrics.open(result.metrics_path, append ? std::ios::app : std::ios::trunc);
      if (!metrics)
        throw IoError(
            fmt::format("cannot open metrics file '{}' for writing", result.metrics_path));
    }
    metrics << line.dump() << "\n" << std::flush;
    if (!metrics) throw IoError(fmt::format("cannot write metrics file '{}'", result.metrics_path));
  };

  const bool bar = req.progress < 0 ? core::stderr_is_terminal() : req.progress == 1;
  SignalScope signals;
  int64_t steps_this_run = 0;
  auto stop_requested = [&] {
    return g_signal.load() != 0 ||
           (req.stop_after_steps > 0 && steps_this_run >= req.stop_after_steps);
  };

  if (!req.quiet) {
    fmt::print(stderr,
               "training on {} examples ({} validation) of shape {}, {} labels; {} steps/epoch, "
               "epochs {}..{}\n",
               n, val_set.size(), fmt::join(mcfg.input_shape, "x"),
               condition_width(mcfg.conditions), steps_per_epoch, st.epochs_done + 1, tcfg.epochs);
  }

  for (int64_t epoch = st.epochs_done + 1; epoch <= tcfg.epochs; ++epoch) {
    // The permutation of this epoch comes from the shuffle state at its start,
    // which is what the model file stores, so a resumed epoch sees the same order.
    rng_from_string(shuffle_rng, st.shuffle_rng, out);
    std::vector<int64_t> perm(static_cast<size_t>(n));
    std::iota(perm.begin(), perm.end(), int64_t{0});
    std::shuffle(perm.begin(), perm.end(), shuffle_rng);
    auto perm_t = epoch_idx.index_select(0, torch::tensor(perm, torch::kInt64));

    core::Progress progress(fmt::format("epoch {}/{}", epoch, tcfg.epochs), steps_per_epoch, bar,
                            req.quiet);
    Sums sums;
    mixture.clear();  // the weights change: a mixture fitted earlier no longer applies
    model->train();
    for (int64_t b = st.batch_in_epoch; b < steps_per_epoch; ++b) {
      auto idx = perm_t.slice(0, b * bs, std::min((b + 1) * bs, n));
      const double beta = beta_at(st.step);
      models::LossTerms terms;
      double loss = 0;
      training::FusedMLPStep::Result r_fused;
      if (fused) {
        auto eps = torch::randn({idx.size(0), mcfg.latent}, gen);
        // Gathers the batch itself and writes the gradients.
        r_fused = fused->run(train_set.x, train_set.y, idx, eps, beta);
        const auto& r = r_fused;
        loss = r.loss;
        sums.add(r.recon_sum, r.kl_sum, r.n, beta);
      } else if (ssl) {
        auto x = train_set.x.index_select(0, idx);
        // The unlabelled batch, and a labelled batch drawn with replacement.
        const int64_t nl = labelled_idx.size(0);
        auto pick = labelled_idx.index_select(
            0, torch::randint(nl, {std::min(bs, nl)}, gen, torch::kInt64));
        terms = models::m2_loss(*model, train_set.x.index_select(0, pick),
                                train_set.y.index_select(0, pick).select(1, 0), x, gen, beta,
                                ssl_alpha);
      } else {
        auto x = train_set.x.index_select(0, idx);
        auto c = data::encode_conditions(mcfg.conditions, train_set.y.index_select(0, idx));
        auto eps = torch::randn({idx.size(0), mcfg.latent}, gen);
        terms = models::elbo_loss(*model, x, c, eps, beta, tcfg.free_bits);
      }
      if (!fused) {
        if (req.inject_nan_at_step == st.step + 1) terms.loss = terms.loss * std::nan("");
        loss = terms.loss.item<double>();
      } else if (req.inject_nan_at_step == st.step + 1) {
        loss = std::nan("");
      }
      if (!std::isfinite(loss)) {
        throw NumericError(
            fmt::format("non-finite loss ({}) at epoch {}, step {}; training stopped and the model "
                        "file '{}' holds the last good state (try a lower --lr or --grad-clip)",
                        loss, epoch, st.step + 1, out));
      }
      if (!fused) {
        opt.zero_grad();
        terms.loss.backward();
      }
      // The global gradient norm (and clipping, when asked): a finite loss can still
      // have non-finite gradients, which must not reach the weights.
      const double grad_norm = fused ? r_fused.grad_norm : opt.grad_norm();
      if (!std::isfinite(grad_norm)) {
        throw NumericError(fmt::format(
            "non-finite gradient (norm {}) at epoch {}, step {}; training stopped and the "
            "model file '{}' holds the last good state (try a lower --lr or --grad-clip)",
            grad_norm, epoch, st.step + 1, out));
      }
      // As torch::nn::utils::clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1.
      const double clip = tcfg.grad_clip > 0 ? tcfg.grad_clip / (grad_norm + 1e-6) : 1.0;
      if (fused) {
        fused->defer_step(std::min(1.0, clip));  // applied by the next step's forward pass
      } else {
        opt.step(std::min(1.0, clip));
      }
      ++st.step;
      ++steps_this_run;
      st.beta_now = beta;
      if (!fused) sums.add(terms, beta);
      if (progress.visible())
        progress.update(
            b + 1,
            fmt::format("loss {:.2f} recon {:.2f} kl {:.2f} | {:.0f} ex/s", sums.mean(sums.loss),
                        sums.mean(sums.recon), sums.mean(sums.kl),
                        static_cast<double>(sums.n) / std::max(1e-9, progress.elapsed_seconds())));
      const bool last_batch = b + 1 == steps_per_epoch;
      if (!last_batch &&
          ((tcfg.save_every > 0 && st.step % tcfg.save_every == 0) || stop_requested())) {
        st.batch_in_epoch = b + 1;
        save();
        if (stop_requested()) {
          progress.finish();
          result.interrupted = true;
          result.epochs_done = st.epochs_done;
          result.steps = st.step;
          result.best_val_loss = st.best_val;
          return result;
        }
      }
    }
    if (fused) fused->flush();
    progress.finish();
    st.batch_in_epoch = 0;
    st.shuffle_rng = rng_to_string(shuffle_rng);  // the start of the next epoch

    EpochMetrics m;
    m.epoch = epoch;
    m.step = st.step;
    m.beta = st.beta_now;
    m.seconds = progress.elapsed_seconds();
    m.examples_per_second = static_cast<double>(sums.n) / std::max(1e-9, m.seconds);
    m.train_loss = sums.mean(sums.loss);
    m.train_recon = sums.mean(sums.recon);
    m.train_kl = sums.mean(sums.kl);
    model->eval();
    if (val_set.size() > 0) {
      Sums v = evaluate_loss(*model, val_set, 256, tcfg.beta, tcfg.seed + 7919, &m.active_units);
      m.val_loss = v.mean(v.loss);
      m.val_recon = v.mean(v.recon);
      m.val_kl = v.mean(v.kl);
      if (ssl) {
        torch::NoGradGuard no_grad;
        auto pred = models::predict_with(*model, val_set.x);
        m.val_accuracy = (pred == val_set.y.select(1, 0)).to(torch::kFloat64).mean().item<double>();
      }
    } else {
      m.active_units = -1;
      m.val_loss = m.train_loss;  // no validation split: the latest model is the best
      m.val_recon = m.train_recon;
      m.val_kl = m.train_kl;
    }
    if (!std::isfinite(m.val_loss)) {
      throw NumericError(
          fmt::format("non-finite validation loss at epoch {}; the model file '{}' holds the last "
                      "good state",
                      epoch, out));
    }
    if (val_set.size() == 0 || m.val_loss < st.best_val) {
      st.best_val = m.val_loss;
      st.best_epoch = epoch;
      best_weights = models::module_to_bytes(*model);
      m.best = true;
    }
    st.epochs_done = epoch;
    save();

    nlohmann::json line = {{"epoch", m.epoch},
                           {"step", m.step},
                           {"train_loss", m.train_loss},
                           {"train_recon", m.train_recon},
                           {"train_kl", m.train_kl},
                           {"val_loss", m.val_loss},
                           {"val_recon", m.val_recon},
                           {"val_kl", m.val_kl},
                           {"beta", m.beta},
                           {"active_units", m.active_units},
                           {"seconds", m.seconds},
                           {"examples_per_second", m.examples_per_second},
                           {"best", m.best}};
    if (ssl && std::isfinite(m.val_accuracy)) line["val_accuracy"] = m.val_accuracy;
    write_metrics(line);
    if (!req.quiet) {
      fmt::print(stderr,
                 "epoch {}/{}  train {:.2f} (recon {:.2f}, kl {:.2f})  val {:.2f}  beta {:.2f}  "
                 "active {}/{}  {:.1f}s  {:.0f} ex/s{}{}\n",
                 epoch, tcfg.epochs, m.train_loss, m.train_recon, m.train_kl, m.val_loss, m.beta,
                 m.active_units, mcfg.latent, m.seconds, m.examples_per_second,
                 ssl && std::isfinite(m.val_accuracy)
                     ? fmt::format("  q(y|x) val accuracy {:.4f}", m.val_accuracy)
                     : std::string(),
                 m.best ? "  *best" : "");
    }
    result.epochs.push_back(m);
    if (stop_requested() && epoch < tcfg.epochs) {
      result.interrupted = true;
      break;
    }
  }
  const bool complete = !result.interrupted && st.epochs_done >= tcfg.epochs;
  if (complete && mixture.empty() && tcfg.gmm_components > 0) {
    if (!req.quiet) {
      fmt::print(stderr,
                 "fitting a {}-component latent mixture per label to {} training examples\n",
                 tcfg.gmm_components, train_set.size());
    }
    const std::string weights =
        best_weights.empty() ? models::module_to_bytes(*model) : best_weights;
    models::CVAE best(mcfg);
    models::module_from_bytes(*best, weights, "the best weights");
    data::Dataset fit_set = train_set;
    if (ssl) {
      // Unlabelled examples count under the label q(y|x) gives them, not their hidden one.
      fit_set.y = train_set.y.clone();
      fit_set.y.select(1, 0).index_copy_(
          0, epoch_idx, models::predict_with(*best, train_set.x.index_select(0, epoch_idx)));
    }
    mixture = training::fit_mixture_bytes(*best, fit_set, tcfg.gmm_components, tcfg.seed, false);
    save();
  } else if (result.epochs.empty() && !result.interrupted && out != req.resume) {
    save();  // nothing left to train: --out still gets the model
  }
  result.epochs_done = st.epochs_done;
  result.steps = st.step;
  result.best_val_loss = st.best_val;
  return result;
}

}  // namespace cvae
