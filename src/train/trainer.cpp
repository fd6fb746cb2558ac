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
#include "data/torch_threads.h"
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

// The metrics file: one JSON line per epoch. Opened at the first line, so a
// run that fails before its first epoch ends leaves an earlier file alone; a
// fresh run then replaces it, a resumed one appends.
class MetricsSink {
 public:
  MetricsSink(std::string path, bool append) : path_(std::move(path)), append_(append) {}
  void write(const nlohmann::json& line) {
    if (!out_.is_open()) {
      out_.open(path_, append_ ? std::ios::app : std::ios::trunc);
      if (!out_) throw IoError(fmt::format("cannot open metrics file '{}' for writing", path_));
    }
    out_ << line.dump() << "\n" << std::flush;
    if (!out_) throw IoError(fmt::format("cannot write metrics file '{}'", path_));
  }

 private:
  std::string path_;
  bool append_;
  std::ofstream out_;
};

nlohmann::json metrics_json(const EpochMetrics& m, bool ssl) {
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
  return line;
}

// What one optimisation step reports.
struct StepLoss {
  double loss = 0;       // the objective of the batch
  double grad_norm = 0;  // the global gradient norm before clipping
};

// One training run, fresh or resumed, in the order it happens: the config and
// the data (setup_config, setup_data, setup_labelled), the model and its state
// (setup_model), the epoch loop (run_epoch, with step for each batch and
// end_epoch for validation, the best model and the metrics), and the latent
// mixture fitted at the end (finish).
class TrainingRun {
 public:
  explicit TrainingRun(const TrainRequest& req)
      : req_(req), out_(req.out.empty() ? req.resume : req.out), resuming_(!req.resume.empty()) {}

  TrainResult run() {
    setup_config();
    setup_data();
    setup_labelled();
    setup_model();
    result_.model_path = out_;
    result_.metrics_path = req_.metrics.empty() ? default_metrics_path(out_) : req_.metrics;
    metrics_ = std::make_unique<MetricsSink>(result_.metrics_path,
                                             resuming_ && prev_.state.epochs_done > 0);
    SignalScope signals;
    if (!req_.quiet) {
      fmt::print(stderr,
                 "training on {} examples ({} validation) of shape {}, {} labels; {} steps/epoch, "
                 "epochs {}..{}\n",
                 n_, val_set_.size(), fmt::join(mcfg_.input_shape, "x"),
                 condition_width(mcfg_.conditions), steps_per_epoch_, st_.epochs_done + 1,
                 tcfg_.epochs);
    }
    for (int64_t epoch = st_.epochs_done + 1; epoch <= tcfg_.epochs; ++epoch) {
      if (!run_epoch(epoch)) return stopped();  // stopped inside the epoch, saved
      if (stop_requested() && epoch < tcfg_.epochs) {
        result_.interrupted = true;
        break;
      }
    }
    finish();
    return stopped();
  }

 private:
  // The model, training and data options: the request's, or on resume the file's
  // (with the request's thread count and total epochs).
  void setup_config() {
    mcfg_ = req_.model;
    tcfg_ = req_.train;
    if (resuming_) {
      prev_ = models::load_model_file(req_.resume);
      if (!prev_.resume) {
        throw CheckpointError(
            fmt::format("model file '{}' has no training state to resume from", req_.resume));
      }
      mcfg_ = prev_.model;
      const int threads = tcfg_.threads;
      tcfg_ = prev_.train;
      // The thread count changes the order of floating-point reductions, so an
      // exact resume uses the count the run was saved with unless told otherwise.
      tcfg_.threads = threads > 0 ? threads : prev_.state.threads_used;
      if (req_.resume_epochs > 0) tcfg_.epochs = req_.resume_epochs;
      if (tcfg_.epochs < prev_.state.epochs_done) {
        throw ConfigError(fmt::format(
            "--epochs is below the epochs already trained in '{}' (got {} vs expected at "
            "least {})",
            req_.resume, tcfg_.epochs, prev_.state.epochs_done));
      }
    }
    tcfg_.validate();
    if (req_.engine != "auto" && req_.engine != "fused" && req_.engine != "autograd") {
      throw ConfigError(fmt::format(
          "unknown --engine (got '{}' vs expected one of: auto, fused, autograd)", req_.engine));
    }
    threads_used_ = data::set_threads(tcfg_.threads);
    if (resuming_ && prev_.state.threads_used > 0 && threads_used_ != prev_.state.threads_used &&
        !req_.quiet) {
      fmt::print(stderr,
                 "note: resuming with {} threads (saved with {}); results may differ in the last "
                 "bits from an uninterrupted run\n",
                 threads_used_, prev_.state.threads_used);
    }
  }

  // The training data through its modality; a new model takes its shape,
  // conditions and what else the modality says from it.
  void setup_data() {
    // A resumed model reads its data as it was built to (text: with its vocabulary).
    data::Dataset all = resuming_
                            ? modalities::load_dataset_for(req_.data, "train", mcfg_.modality,
                                                           mcfg_.input_shape, mcfg_.vocabulary)
                            : modalities::load_dataset(req_.data, "train");
    const modalities::Modality& modality = modalities::modality(all.modality);
    if (resuming_) {
      data::check_compatible(all, mcfg_.input_shape, mcfg_.conditions);
    } else {
      mcfg_.modality = all.modality;
      mcfg_.input_shape = all.example_shape();
      mcfg_.conditions = all.conditions;
      if (req_.given) {
        modality.train_defaults(mcfg_, tcfg_, *req_.given);
        tcfg_.validate();
      }
      modality.configure(mcfg_, all);
    }
    mcfg_ = models::resolve_model_config(mcfg_);  // modality, arch and likelihood stored resolved
    if (tcfg_.free_bits < 0) tcfg_.free_bits = modality.defaults().free_bits;  // auto, stored
    models::make_likelihood(mcfg_.likelihood, static_cast<int64_t>(mcfg_.vocabulary.size()))
        ->check_support(all.x, all.source);
    data_source_ = all.source;
    // What the modality keeps of the training data for evaluation (text: which
    // token sequences the file holds, to count generated texts copied from it).
    train_hashes_ =
        resuming_ ? prev_.train_sequences : modality.training_fingerprint(all, req_.data);
    std::tie(train_set_, val_set_) = data::split_validation(all, tcfg_.val_fraction, tcfg_.seed);
    all = data::Dataset();  // the split holds its own copies: free the whole set
    prepare_output(out_);
    if (!req_.metrics.empty()) prepare_output(req_.metrics);
  }

  // Semi-supervised: the labelled examples are a seeded, stratified subset of the
  // training split (so a resume finds the same); epochs go over the others.
  void setup_labelled() {
    ssl_ = tcfg_.labelled > 0;
    if (ssl_) {
      if (mcfg_.conditions.size() != 1) {
        throw ConfigError(fmt::format("--labelled needs data with one condition (got {})",
                                      mcfg_.conditions.size()));
      }
      if (tcfg_.labelled >= train_set_.size()) {
        throw ConfigError(fmt::format(
            "--labelled out of range (got {} vs expected 1..{}, fewer than the {} training "
            "examples)",
            tcfg_.labelled, train_set_.size() - 1, train_set_.size()));
      }
      mcfg_.classifier = true;
      labelled_idx_ = data::stratified_subset(train_set_, tcfg_.labelled, tcfg_.seed);
      auto keep = torch::ones({train_set_.size()}, torch::kBool);
      keep.index_fill_(0, labelled_idx_, false);
      epoch_idx_ = torch::nonzero(keep).view({-1});
    } else {
      epoch_idx_ = torch::arange(train_set_.size(), torch::kInt64);
    }
    ssl_alpha_ =
        tcfg_.ssl_alpha > 0 ? tcfg_.ssl_alpha
        : ssl_ ? 0.1 * static_cast<double>(epoch_idx_.size(0)) / static_cast<double>(tcfg_.labelled)
               : 0.0;
  }

  // The model, its optimizer and step engine, the noise generator, and on
  // resume the state they had.
  void setup_model() {
    torch::manual_seed(tcfg_.seed);  // parameter initialisation
    model_ = models::CVAE(mcfg_);
    opt_ = std::make_unique<optim::FlatAdam>(*model_, tcfg_.lr);
    const std::string unfused = training::fused_mlp_unsupported(mcfg_, tcfg_);
    if (req_.engine == "fused" && !unfused.empty())
      throw ConfigError(fmt::format("--engine fused cannot train this model: {}", unfused));
    if (req_.engine != "autograd" && unfused.empty()) {
      fused_ = std::make_unique<training::FusedMLPStep>(*model_, *opt_, threads_used_);
      train_set_.x = train_set_.x.contiguous();  // the step reads rows in place
      train_set_.y = train_set_.y.contiguous();
    }
    gen_ = at::make_generator<at::CPUGeneratorImpl>(tcfg_.seed);
    // Decoder randomness (word dropout) draws from the run's generator, whose state
    // resumes with the run.
    model_->set_generator(&gen_);
    std::mt19937_64 shuffle_rng(tcfg_.seed);
    if (resuming_) {
      const std::string what = fmt::format("model file '{}'", req_.resume);
      models::module_from_bytes(*model_, prev_.resume->weights, what);
      opt_->load_state_bytes(prev_.resume->optimizer, what);
      models::generator_from_bytes(gen_, prev_.resume->generator, what);
      st_ = prev_.state;  // the epoch loop restores the shuffle state from st.shuffle_rng
      best_weights_ = prev_.weights;
    } else {
      st_.shuffle_rng = rng_to_string(shuffle_rng);
    }
    st_.threads_used = threads_used_;
    st_.data_source = data_source_;
    st_.train_examples = train_set_.size();
    st_.val_examples = val_set_.size();
    n_ = epoch_idx_.size(0);  // examples per epoch (semi-supervised: the unlabelled)
    bs_ = std::min(tcfg_.batch_size, n_);
    steps_per_epoch_ = (n_ + bs_ - 1) / bs_;
    mixture_ = resuming_ ? prev_.latent_mixture : std::string();
  }

  bool stop_requested() const {
    return g_signal.load() != 0 ||
           (req_.stop_after_steps > 0 && steps_this_run_ >= req_.stop_after_steps);
  }

  // The result of the run so far.
  TrainResult stopped() {
    result_.epochs_done = st_.epochs_done;
    result_.steps = st_.step;
    result_.best_val_loss = st_.best_val;
    return result_;
  }

  void save() {
    if (fused_) fused_->flush();  // the weights and moments of every step taken
    models::ModelFile f;
    f.model = mcfg_;
    f.train = tcfg_;
    f.state = st_;
    f.weights = best_weights_.empty() ? models::module_to_bytes(*model_) : best_weights_;
    f.latent_mixture = mixture_;
    f.train_sequences = train_hashes_;
    f.resume = models::ResumeState{models::module_to_bytes(*model_), opt_->state_bytes(),
                                   models::generator_to_bytes(gen_)};
    models::save_model_file(out_, f);
  }

  // One epoch from st_.batch_in_epoch on. False when a stop request ended it
  // early (the model file then holds the step reached).
  bool run_epoch(int64_t epoch) {
    // The permutation of this epoch comes from the shuffle state at its start,
    // which is what the model file stores, so a resumed epoch sees the same order.
    std::mt19937_64 shuffle_rng;
    rng_from_string(shuffle_rng, st_.shuffle_rng, out_);
    std::vector<int64_t> perm(static_cast<size_t>(n_));
    std::iota(perm.begin(), perm.end(), int64_t{0});
    std::shuffle(perm.begin(), perm.end(), shuffle_rng);
    auto perm_t = epoch_idx_.index_select(0, torch::tensor(perm, torch::kInt64));

    const bool bar = req_.progress < 0 ? core::stderr_is_terminal() : req_.progress == 1;
    core::Progress progress(fmt::format("epoch {}/{}", epoch, tcfg_.epochs), steps_per_epoch_, bar,
                            req_.quiet);
    Sums sums;
    mixture_.clear();  // the weights change: a mixture fitted earlier no longer applies
    model_->train();
    for (int64_t b = st_.batch_in_epoch; b < steps_per_epoch_; ++b) {
      auto idx = perm_t.slice(0, b * bs_, std::min((b + 1) * bs_, n_));
      step(idx, epoch, sums);
      if (progress.visible())
        progress.update(
            b + 1,
            fmt::format("loss {:.2f} recon {:.2f} kl {:.2f} | {:.0f} ex/s", sums.mean(sums.loss),
                        sums.mean(sums.recon), sums.mean(sums.kl),
                        static_cast<double>(sums.n) / std::max(1e-9, progress.elapsed_seconds())));
      const bool last_batch = b + 1 == steps_per_epoch_;
      if (!last_batch &&
          ((tcfg_.save_every > 0 && st_.step % tcfg_.save_every == 0) || stop_requested())) {
        st_.batch_in_epoch = b + 1;
        save();
        if (stop_requested()) {
          progress.finish();
          result_.interrupted = true;
          return false;
        }
      }
    }
    if (fused_) fused_->flush();
    progress.finish();
    st_.batch_in_epoch = 0;
    st_.shuffle_rng = rng_to_string(shuffle_rng);  // the start of the next epoch
    end_epoch(epoch, sums, progress.elapsed_seconds());
    return true;
  }

  // The batch's loss and gradients by the run's engine: the fused MLP step,
  // the semi-supervised objective, or -ELBO by autograd. Adds to sums.
  StepLoss forward_backward(const torch::Tensor& idx, double beta, Sums& sums) {
    StepLoss r;
    if (fused_) {
      auto eps = torch::randn({idx.size(0), mcfg_.latent}, gen_);
      // Gathers the batch itself and writes the gradients.
      const auto f = fused_->run(train_set_.x, train_set_.y, idx, eps, beta);
      r.loss = req_.inject_nan_at_step == st_.step + 1 ? std::nan("") : f.loss;
      sums.add(f.recon_sum, f.kl_sum, f.n, beta);
      r.grad_norm = f.grad_norm;
      return r;
    }
    models::LossTerms terms;
    if (ssl_) {
      auto x = train_set_.x.index_select(0, idx);
      // The unlabelled batch, and a labelled batch drawn with replacement.
      const int64_t nl = labelled_idx_.size(0);
      auto pick = labelled_idx_.index_select(
          0, torch::randint(nl, {std::min(bs_, nl)}, gen_, torch::kInt64));
      terms = models::m2_loss(*model_, train_set_.x.index_select(0, pick),
                              train_set_.y.index_select(0, pick).select(1, 0), x, gen_, beta,
                              ssl_alpha_);
    } else {
      auto x = train_set_.x.index_select(0, idx);
      auto c = data::encode_conditions(mcfg_.conditions, train_set_.y.index_select(0, idx));
      auto eps = torch::randn({idx.size(0), mcfg_.latent}, gen_);
      terms = models::elbo_loss(*model_, x, c, eps, beta, tcfg_.free_bits);
    }
    if (req_.inject_nan_at_step == st_.step + 1) terms.loss = terms.loss * std::nan("");
    r.loss = terms.loss.item<double>();
    if (std::isfinite(r.loss)) {
      opt_->zero_grad();
      terms.loss.backward();
      r.grad_norm = opt_->grad_norm();
      sums.add(terms, beta);
    }
    return r;
  }

  // One optimisation step on the examples idx of the training split; a
  // NumericError (the file keeps the last good state) on a non-finite loss or gradient.
  void step(const torch::Tensor& idx, int64_t epoch, Sums& sums) {
    const double beta = training::kl_weight(tcfg_, st_.step, steps_per_epoch_);
    const StepLoss r = forward_backward(idx, beta, sums);
    if (!std::isfinite(r.loss)) {
      throw NumericError(
          fmt::format("non-finite loss ({}) at epoch {}, step {}; training stopped and the model "
                      "file '{}' holds the last good state (try a lower --lr or --grad-clip)",
                      r.loss, epoch, st_.step + 1, out_));
    }
    // The global gradient norm (and clipping, when asked): a finite loss can still
    // have non-finite gradients, which must not reach the weights.
    if (!std::isfinite(r.grad_norm)) {
      throw NumericError(fmt::format(
          "non-finite gradient (norm {}) at epoch {}, step {}; training stopped and the "
          "model file '{}' holds the last good state (try a lower --lr or --grad-clip)",
          r.grad_norm, epoch, st_.step + 1, out_));
    }
    // As torch::nn::utils::clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1.
    const double clip = tcfg_.grad_clip > 0 ? tcfg_.grad_clip / (r.grad_norm + 1e-6) : 1.0;
    if (fused_) {
      fused_->defer_step(std::min(1.0, clip));  // applied by the next step's forward pass
    } else {
      opt_->step(std::min(1.0, clip));
    }
    ++st_.step;
    ++steps_this_run_;
    st_.beta_now = beta;
  }

  // Validation, the best model so far, the save and the metrics of an epoch.
  void end_epoch(int64_t epoch, const Sums& sums, double seconds) {
    EpochMetrics m;
    m.epoch = epoch;
    m.step = st_.step;
    m.beta = st_.beta_now;
    m.seconds = seconds;
    m.examples_per_second = static_cast<double>(sums.n) / std::max(1e-9, m.seconds);
    m.train_loss = sums.mean(sums.loss);
    m.train_recon = sums.mean(sums.recon);
    m.train_kl = sums.mean(sums.kl);
    model_->eval();
    if (val_set_.size() > 0) {
      Sums v =
          evaluate_loss(*model_, val_set_, 256, tcfg_.beta, tcfg_.seed + 7919, &m.active_units);
      m.val_loss = v.mean(v.loss);
      m.val_recon = v.mean(v.recon);
      m.val_kl = v.mean(v.kl);
      if (ssl_) {
        torch::NoGradGuard no_grad;
        auto pred = models::predict_with(*model_, val_set_.x);
        m.val_accuracy =
            (pred == val_set_.y.select(1, 0)).to(torch::kFloat64).mean().item<double>();
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
                      epoch, out_));
    }
    if (val_set_.size() == 0 || m.val_loss < st_.best_val) {
      st_.best_val = m.val_loss;
      st_.best_epoch = epoch;
      best_weights_ = models::module_to_bytes(*model_);
      m.best = true;
    }
    st_.epochs_done = epoch;
    save();
    metrics_->write(metrics_json(m, ssl_));
    if (!req_.quiet) {
      fmt::print(stderr,
                 "epoch {}/{}  train {:.2f} (recon {:.2f}, kl {:.2f})  val {:.2f}  beta {:.2f}  "
                 "active {}/{}  {:.1f}s  {:.0f} ex/s{}{}\n",
                 epoch, tcfg_.epochs, m.train_loss, m.train_recon, m.train_kl, m.val_loss, m.beta,
                 m.active_units, mcfg_.latent, m.seconds, m.examples_per_second,
                 ssl_ && std::isfinite(m.val_accuracy)
                     ? fmt::format("  q(y|x) val accuracy {:.4f}", m.val_accuracy)
                     : std::string(),
                 m.best ? "  *best" : "");
    }
    result_.epochs.push_back(m);
  }

  // After the last epoch: the latent mixture fitted to the best weights.
  void finish() {
    const bool complete = !result_.interrupted && st_.epochs_done >= tcfg_.epochs;
    if (complete && mixture_.empty() && tcfg_.gmm_components > 0) {
      if (!req_.quiet) {
        fmt::print(stderr,
                   "fitting a {}-component latent mixture per label to {} training examples\n",
                   tcfg_.gmm_components, train_set_.size());
      }
      const std::string weights =
          best_weights_.empty() ? models::module_to_bytes(*model_) : best_weights_;
      models::CVAE best(mcfg_);
      models::module_from_bytes(*best, weights, "the best weights");
      data::Dataset fit_set = train_set_;
      if (ssl_) {
        // Unlabelled examples count under the label q(y|x) gives them, not their hidden one.
        fit_set.y = train_set_.y.clone();
        fit_set.y.select(1, 0).index_copy_(
            0, epoch_idx_, models::predict_with(*best, train_set_.x.index_select(0, epoch_idx_)));
      }
      mixture_ =
          training::fit_mixture_bytes(*best, fit_set, tcfg_.gmm_components, tcfg_.seed, false);
      save();
    } else if (result_.epochs.empty() && !result_.interrupted && out_ != req_.resume) {
      save();  // nothing left to train: --out still gets the model
    }
  }

  const TrainRequest& req_;
  const std::string out_;
  const bool resuming_;
  models::ModelFile prev_;  // the file resumed from
  ModelConfig mcfg_;
  TrainConfig tcfg_;
  int threads_used_ = 0;
  data::Dataset train_set_, val_set_;
  std::string data_source_, train_hashes_;
  bool ssl_ = false;
  torch::Tensor labelled_idx_, epoch_idx_;  // semi-supervised: labelled; the epochs' examples
  double ssl_alpha_ = 0;
  models::CVAE model_{nullptr};
  std::unique_ptr<optim::FlatAdam> opt_;
  std::unique_ptr<training::FusedMLPStep> fused_;  // null: autograd
  at::Generator gen_;                              // made in setup_model
  models::TrainingState st_;
  std::string best_weights_, mixture_;
  int64_t n_ = 0, bs_ = 0, steps_per_epoch_ = 0;
  int64_t steps_this_run_ = 0;
  std::unique_ptr<MetricsSink> metrics_;
  TrainResult result_;
};

}  // namespace

TrainResult train(const TrainRequest& req) {
  modalities::register_builtins();
  if (req.out.empty() && req.resume.empty())
    throw ConfigError("no output path given (expected --out FILE)");
  return TrainingRun(req).run();
}

}  // namespace cvae
