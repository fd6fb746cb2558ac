// The public, torch-free API: one function per CLI sub-command. The CLI only
// parses options into these request structs and prints the results, so tests
// and other programs can call exactly what the CLI calls.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cvae/config.h"

namespace cvae {

// ---- train -----------------------------------------------------------------
struct TrainRequest {
  DataConfig data;
  ModelConfig model;  // input_shape and conditions are filled from the data
  TrainConfig train;
  std::string out;            // model file, written atomically at every save
  std::string resume;         // continue from this model file ("" = fresh run)
  int64_t resume_epochs = 0;  // on resume: new total number of epochs (0 = as saved)
  std::string metrics;        // JSON lines, one per epoch ("" = <out>.metrics.jsonl)
  int progress = -1;          // -1 = bar when stderr is a terminal, 0 = plain lines, 1 = bar
  bool quiet = false;         // no progress output at all
  // How a training step runs: "fused" (a hand-written forward and backward for
  // the MLP with a standard prior and Bernoulli likelihood, each layer's units
  // split across the threads: train/fused_mlp.h, docs/performance.md),
  // "autograd" (libtorch's autograd; any model), or "auto" (fused when the model
  // allows it, else autograd).
  std::string engine = "auto";
  // Stop (as if killed) after this many optimisation steps in this run; 0 = never.
  // Used by tests to interrupt a run deterministically.
  int64_t stop_after_steps = 0;
  // Fault injection for tests: make the loss NaN at this step (1-based); 0 = never.
  int64_t inject_nan_at_step = 0;
  // The options the user gave, by long name without dashes ("hidden", "beta"):
  // the others take the data's modality's own defaults where it has them
  // (item sets: docs/recommend.md). Unset (library callers): every value as set
  // in model and train.
  std::optional<std::vector<std::string>> given;
};

struct EpochMetrics {
  int64_t epoch = 0;                                     // 1-based
  int64_t step = 0;                                      // optimisation steps so far
  double train_loss = 0, train_recon = 0, train_kl = 0;  // nats per example
  double val_loss = 0, val_recon = 0, val_kl = 0;
  double beta = 0;
  int64_t active_units = 0;            // latent dims in use on the validation split (-1: no split)
  double val_accuracy = std::nan("");  // semi-supervised: q(y|x) on the validation split
  double seconds = 0;
  double examples_per_second = 0;
  bool best = false;
};

struct TrainResult {
  std::vector<EpochMetrics> epochs;  // the epochs run in this call
  int64_t epochs_done = 0;           // in total, across resumes
  int64_t steps = 0;
  double best_val_loss = 0;
  bool interrupted = false;  // stopped early (signal or stop_after_steps)
  std::string model_path;
  std::string metrics_path;
};

TrainResult train(const TrainRequest& req);

// ---- generate --------------------------------------------------------------
// Defaults of sampling that depend on the modality (measured: docs/models.md, docs/text.md).
// Images: z from the sampler at latent temperature 1.4, each sample the best of 16 by the
// model's own label posterior; text: latent temperature 1, softmax temperature 1, best of 8.
inline constexpr double kImageLatentTemperature = 1.4;
inline constexpr int64_t kImageCandidates = 16;
inline constexpr int64_t kTextCandidates = 8;
// How text models turn a latent code into words (modalities/text/decode.h), and the
// reranking of candidates, which images use too.
// Defaults from the measurements in docs/text.md.
struct TextDecoding {
  std::string method = "sample";  // greedy | sample | beam
  int64_t top_k = 0;              // sample: only the k most likely tokens (0 = all)
  double top_p = 0.9;             // sample: nucleus mass
  int64_t beam = 5;               // beam: width
  // Candidates per generated example (text and images): the one the model itself
  // most assigns to the requested label is kept (1 = off; -1 = auto: kTextCandidates for
  // text, kImageCandidates for images).
  int64_t rerank = -1;
};

struct GenerateRequest {
  std::string model;
  std::vector<std::string> labels = {"all"};  // label names, or "all"
  int64_t n = 10;                             // samples per label
  // Images: the scale of the sampler's standard deviation. Text: the softmax
  // temperature of --decode sample (the latent scale is latent_temperature).
  // < 0 = auto: images kImageLatentTemperature, text 1.
  double temperature = -1;
  double latent_temperature = -1;  // scale of the sampler's standard deviation (< 0: images
                                   //   use temperature, text 1)
  std::string sampler = "auto";    // auto | prior | gmm (see models::choose_sampler)
  uint64_t seed = 1;
  bool sample_pixels = false;   // draw from p(x|z,c) instead of its mean
  TextDecoding decoding;        // text models
  std::string format = "auto";  // png | idx (images), tsv (text); auto = png or tsv
  std::string out;              // png: file; idx: prefix; tsv: file ("" = images: samples.png,
                                //   text: no file, the texts are in the result)
  int threads = 0;
};

struct GenerateResult {
  std::vector<std::string> files;
  int64_t count = 0;
  std::vector<std::string> labels;  // resolved label names, one per row
  // Text models: the generated texts and the label of each, label-major.
  std::vector<std::string> texts, text_labels;
};

GenerateResult generate(const GenerateRequest& req);

// ---- eval ------------------------------------------------------------------
struct EvalRequest {
  std::string model;
  DataConfig data;
  std::string split = "test";  // test | train | val (val is held out from train as in training)
  int64_t iw_samples = -1;     // K for the importance-sampled bound; 0 = skip; -1 = auto: 1000
                               //   for images, 100 for text (each sample decodes T*V logits)
  int64_t batch_size = 256;
  int64_t limit = 0;  // evaluate the first N examples only (0 = all)
  uint64_t seed = 1;
  int threads = 0;
  // Fidelity and diversity (when judge is set): samples_per_label samples per
  // label from `sampler` at `temperature` are classified by the judge; the
  // first transfer_examples examples of the split are transferred to every
  // other label and classified too.
  std::string judge;  // classifier file from cvae classifier train ("" = skip)
  int64_t samples_per_label = 100;
  std::string sampler = "auto";
  double temperature = -1;           // as GenerateRequest::temperature
  double latent_temperature = -1;    // as GenerateRequest::latent_temperature
  TextDecoding decoding;             // text models: how samples are decoded
  int64_t transfer_examples = 1000;  // 0 = skip transfer accuracy
  // Item sets: also rank by the baselines (popularity, EASE) on the same users.
  bool baselines = false;
};

struct FidelityResult {
  std::vector<std::string> labels;
  double cond_accuracy = 0;  // share of samples the judge assigns to the requested label
  std::vector<double> cond_accuracy_per_label;
  double diversity_ratio = 0;  // mean over labels of sample / real mean pairwise distance
  std::vector<double> diversity_ratio_per_label;
  std::vector<double> sample_distance_per_label, real_distance_per_label;
  double judge_real_accuracy = 0;  // the judge on the real examples of the split: the ceiling
  std::vector<double> judge_real_accuracy_per_label;
  double transfer_accuracy = std::nan("");  // share of transfers assigned to the target label
  int64_t transfer_count = 0;
  int64_t samples = 0;
  std::string sampler;               // the sampler used (prior or gmm)
  double latent_temperature = 1.0;   // the sampler's temperature used
  double softmax_temperature = 1.0;  // text: the decoding temperature used
  int64_t candidates = 1;            // each sample the best of this many
  // Text models (diversity_ratio is then distinct_2 / real_distinct_2):
  bool text = false;
  // Distinct n-grams / all n-grams (Li et al. 2016) of the generated texts and of
  // as many real texts per label (the same count, so the figures compare).
  double distinct_1 = 0, distinct_2 = 0, real_distinct_1 = 0, real_distinct_2 = 0;
  double copied_share = 0;  // share of generated texts found verbatim in the training file
  std::vector<std::vector<std::string>> examples_per_label;  // the first few texts per label
};

struct EvalResult {
  std::string modality;  // of the model ("image", "text", ...)
  int64_t n = 0;
  double neg_elbo = 0, recon = 0, kl = 0;  // nats per example
  double iw_nll = 0;                       // -log p(x|c), IWAE bound with iw_samples
  // Text: tokens explained (words and <eos>, not padding), and the word-level
  // perplexity exp(total -log p / tokens) from the IWAE bound (from -ELBO when
  // iw_samples is 0).
  int64_t tokens = 0;
  double perplexity = std::nan("");
  int64_t iw_samples = 0;
  int64_t active_units = 0;  // dims with Cov_x(E_q[z_d]) > 0.01
  std::vector<double> kl_per_dim;
  double seconds = 0;
  bool has_fidelity = false;
  FidelityResult fidelity;
  double classifier_accuracy = std::nan("");  // semi-supervised models: q(y|x) on the split
  // The modality's own figures by name, in report order (item sets: ranking
  // metrics such as "ndcg_100", and "ease.ndcg_100" with baselines).
  std::vector<std::pair<std::string, double>> figures;
};

EvalResult evaluate(const EvalRequest& req);
std::string eval_to_json(const EvalResult& r, const EvalRequest& req);
// The fidelity part of eval's report for a person, as the model's modality
// writes it ("" without fidelity figures).
std::string fidelity_report(const EvalResult& r, const EvalRequest& req);

// ---- recommend -------------------------------------------------------------
// Item-set models: the items each user of a history file would like next.
struct RecommendRequest {
  std::string model;
  std::string history;  // CSV with a header naming userId and movieId, optionally rating
                        // (then only ratings >= 3.5 are read as liked); others ignored
  int64_t top = 20;     // items per user
  std::string label;    // "" = any item; "genre=Comedy" (or "Comedy"): items of that genre
  std::string out;      // TSV file written atomically ("" = none)
  int threads = 0;
};

struct Recommendation {
  int64_t user = 0, rank = 0, item = 0;
  double score = 0;  // the model's probability of the item
  std::string title;
};

struct RecommendResult {
  std::vector<Recommendation> rows;  // user-major, users by ascending userId
  int64_t users = 0;
  int64_t history_items = 0;  // rows of the history
  int64_t unknown_items = 0;  // of them, items the model never saw (ignored)
  std::string tsv;            // rows as the TSV lines --out holds
  std::vector<std::string> files;
};

RecommendResult recommend(const RecommendRequest& req);

// ---- transfer --------------------------------------------------------------
struct TransferRequest {
  std::string model;
  DataConfig data;
  std::string split = "test";
  std::vector<int64_t> indices = {0};  // examples to transfer, one row each
  // Text models: transfer these texts instead of examples of data.
  std::vector<std::string> texts;
  // The label of each text ("" = the label under which the model explains the
  // text best: the lowest -ELBO with z at the posterior mean).
  std::string from_label;
  TextDecoding decoding;
  double temperature = 1.0;  // text, --decode sample: softmax temperature
  uint64_t seed = 1;         // text, --decode sample
  std::vector<std::string> to_labels = {"all"};
  std::string format = "png";  // images: png (a grid with the originals) or idx (transferred
                               //   images + targets); text models take png (= TSV/terminal)
  std::string sampler =
      "auto";       // gmm: move z between the labels' mixtures (models::transfer_latent)
  std::string out;  // png: file ("" = transfer.png); idx: prefix; text: TSV ("" = none)
  int threads = 0;
};

struct TransferResult {
  std::vector<std::string> files;
  std::vector<std::string> source_labels;  // the label of each source example
  std::vector<std::string> target_labels;
  // Text models: the source texts (as the model reads them) and the transferred
  // texts, one per (source, target), source-major.
  std::vector<std::string> source_texts, texts;
};

TransferResult transfer(const TransferRequest& req);

// ---- interpolate -----------------------------------------------------------
struct InterpolateRequest {
  std::string model;
  // Text models: interpolate between the posterior means of these two texts
  // (each read under `label`, or under the label that explains it best when
  // `label` is empty); the condition moves from the first's label to the second's.
  std::string from_text, to_text;
  TextDecoding decoding = {"greedy", 0, 0.9, 5, 1};  // no reranking along a walk
  std::string label;                                 // the label of the latent interpolation
  std::string to_label;  // when set, also interpolate from label to to_label at one z
  int64_t steps = 10;
  int64_t rows = 1;  // independent pairs of latent end points
  double temperature = 1.0;
  std::string sampler = "auto";  // where the end points are drawn from
  uint64_t seed = 1;
  std::string out;  // images: PNG grid ("" = interp.png); text: TSV ("" = none)
  int threads = 0;
};

struct InterpolateResult {
  std::vector<std::string> files;
  std::vector<std::string> texts;  // text models: rows x steps texts, row-major
};

InterpolateResult interpolate(const InterpolateRequest& req);

// ---- fit-sampler -----------------------------------------------------------
// Fits the per-label latent mixture of a trained model again (training does it
// once at the end), e.g. with another number of components.
struct FitSamplerRequest {
  std::string model;
  DataConfig data;  // the data the model was trained on
  std::string out;  // "" = rewrite the model file (atomically)
  int64_t components = 10;
  std::string source = "samples";  // samples: z ~ q(z|x,c); means: E_q[z]
  uint64_t seed = 1;
  int threads = 0;
};

struct FitSamplerResult {
  std::string path;
  int64_t examples = 0;
  int64_t components = 0;
};

FitSamplerResult fit_sampler(const FitSamplerRequest& req);

// ---- classifier (the judge) --------------------------------------------------
// A small conv classifier trained on real labelled data, used by eval to
// measure whether generated content carries the requested label.
struct ClassifierTrainRequest {
  DataConfig data;
  std::string out;       // classifier file, written atomically at the end
  int64_t labelled = 0;  // train on this many examples only (stratified, seeded); 0 = all
  int64_t epochs = 0;    // 0 = the modality's default: 15 for images, 60 for text (a bag of
                         //   words learns slower)
  int64_t batch_size = 128;
  double lr = 1e-3;
  uint64_t seed = 1;
  int threads = 0;
  int progress = -1;  // as TrainRequest
  bool quiet = false;
};

struct ClassifierReport {
  int64_t n = 0;
  double accuracy = 0;
  std::vector<std::string> labels;
  std::vector<double> accuracy_per_label;
  std::vector<int64_t> count_per_label;
};

struct ClassifierTrainResult {
  ClassifierReport test;  // on the data's test split (n = 0 when there is none)
  double train_accuracy = 0;
  double seconds = 0;
  std::string path;
};

ClassifierTrainResult train_classifier(const ClassifierTrainRequest& req);

struct ClassifierEvalRequest {
  std::string classifier;
  DataConfig data;
  std::string split = "test";
  int threads = 0;
};

ClassifierReport evaluate_classifier(const ClassifierEvalRequest& req);

// ---- info ------------------------------------------------------------------
// A readable summary of a model file (config, labels, training state).
std::string describe_model(const std::string& path, bool as_json);

// Library version string.
const char* version();

// The modalities (DataConfig::modality) and backbones (ModelConfig::arch)
// this build has, in registration order and by name.
std::vector<std::string> modality_names();
std::vector<std::string> arch_names();

}  // namespace cvae
