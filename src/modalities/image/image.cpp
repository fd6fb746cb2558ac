#include "modalities/image/image.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "io/idx.h"
#include "lite/mlp_sampler.h"
#include "modalities/image/conv.h"
#include "modalities/image/fidelity.h"
#include "modalities/image/image_data.h"
#include "modalities/image/lite/image_output.h"
#include "modalities/image/image_sampling.h"
#include "modalities/modality.h"
#include "models/sampling.h"

namespace cvae::modalities::image {
namespace {

void check_image_model(const ModelConfig& cfg, const std::string& what) {
  if (cfg.input_shape.size() != 3) {
    throw ConfigError(fmt::format("{} needs an image model (input shape C x H x W; got {})", what,
                                  fmt::join(cfg.input_shape, "x")));
  }
}

class ImageModality final : public Modality {
 public:
  // ---- the model layer's ModelKind ----
  std::string modality() const override { return kName; }
  bool owns_unnamed(const std::vector<int64_t>& /*shape*/,
                    const std::vector<std::string>& vocabulary) const override {
    return vocabulary.empty();  // every file without a vocabulary was of images
  }
  std::string default_arch(const ModelConfig& cfg) const override {
    return auto_arch(cfg.input_shape, cfg.channels);
  }
  std::string default_likelihood(const ModelConfig& /*cfg*/) const override { return "bernoulli"; }
  std::vector<std::string> archs() const override { return {"mlp", "conv"}; }
  std::vector<std::string> likelihoods() const override {
    return {"bernoulli", "cbernoulli", "gaussian"};
  }
  models::ClassifierFeatures classifier_features(
      torch::nn::Module& owner, const models::ClassifierConfig& cfg) const override {
    if (cfg.input_shape.size() == 3)
      return conv_classifier_features(owner, cfg.input_shape, cfg.channels);
    // Other shapes: the flattened example.
    owner.register_module("convs", torch::nn::ModuleList());
    int64_t flat = 1;
    for (auto d : cfg.input_shape) flat *= d;
    return {[](const torch::Tensor& x) { return x.flatten(1); }, flat};
  }

  // ---- data ----
  bool claims(const DataConfig& cfg) const override { return is_directory(cfg.path); }
  std::string data_description() const override {
    return "a directory of IDX files or of image folders";
  }
  data::Dataset load(const DataConfig& cfg, const std::string& split) const override {
    return load_image_data(cfg, split);
  }
  DataConfig reading_for(DataConfig cfg, const std::vector<int64_t>& shape,
                         const std::vector<std::string>& /*vocabulary*/) const override {
    return reading_for_images(std::move(cfg), shape);
  }

  Defaults defaults() const override {
    Defaults d;
    d.free_bits = 0;
    d.iw_samples = 1000;
    d.judge_epochs = 15;
    d.sampling = kSamplingDefaults;
    d.formats = {"png", "idx"};
    return d;
  }

  // ---- writers ----
  GenerateResult generate(const GenerateContext& ctx) const override {
    const GenerateRequest& req = ctx.request;
    const ModelConfig& cfg = ctx.info.model;
    torch::Tensor images;
    if (lite::sampler_supports(cfg) && !ctx.mixture.defined() && !req.sample_pixels &&
        ctx.sampling.decode.rerank <= 1) {
      // The torch-free sampler, which `cvae generate` also runs without libtorch
      // (lite/cli.h): the same images for the same seed either way.
      images = sample_mlp_images(ctx.model, ctx.label_rows, req.n, ctx.sampling.latent_temperature,
                                 req.seed);
    } else {
      images = sample(ctx.model, ctx.rows, req.n, ctx.sampling.latent_temperature, ctx.gen,
                      req.sample_pixels, ctx.mixture, ctx.sampling.decode.rerank);
    }
    GenerateResult res;
    res.count = images.size(0);
    res.files = write_image_samples(req.out, ctx.format, to_bytes(images), cfg.input_shape,
                                    ctx.label_rows, req.n);
    return res;
  }

  TransferResult transfer(const TransferRequest& req, models::CVAEImpl& model,
                          const models::ModelFile& info) const override {
    if (!req.texts.empty()) throw ConfigError("--text needs a text model (this one reads images)");
    check_image_model(info.model, "transfer");
    const std::string out_path = req.out.empty() ? "transfer.png" : req.out;
    if (req.format != "png" && req.format != "idx") {
      throw ConfigError(
          fmt::format("unknown --format (got '{}' vs expected png or idx)", req.format));
    }
    const auto& conds = info.model.conditions;
    auto [x, y] = indexed_examples(req, info.model);
    auto targets = data::parse_labels(conds, req.to_labels);
    auto mixture = models::choose_sampler(req.sampler, info);
    auto out = image::transfer(model, x, y, targets, mixture);  // (N, T, C, H, W)
    core::create_parent_dirs(out_path);
    TransferResult res;
    if (req.format == "idx") {
      // The transferred images, example-major, each with its target label.
      res.files = write_idx_pair(io::idx_prefix(out_path), out.flatten(0, 1),
                                 targets.repeat({x.size(0), 1}));
    } else {
      // Each row: the original, then one decoding per target label.
      auto strip = torch::cat({x.unsqueeze(1), out}, 1).flatten(0, 1);
      write_png_grid(out_path, strip, x.size(0), targets.size(0) + 1);
      res.files = {out_path};
    }
    res.source_labels = data::label_names(conds, y);
    res.target_labels = data::label_names(conds, targets);
    return res;
  }

  InterpolateResult interpolate(const InterpolateRequest& req, models::CVAEImpl& model,
                                const models::ModelFile& info) const override {
    if (!req.from_text.empty() || !req.to_text.empty())
      throw ConfigError("--from-text and --to-text need a text model (this one reads images)");
    check_image_model(info.model, "interpolate");
    if (req.label.empty()) throw ConfigError("no --label given (expected the label of the walk)");
    const std::string out_path = req.out.empty() ? "interp.png" : req.out;
    const auto& conds = info.model.conditions;
    auto from = one_label(conds, req.label, "--label");
    auto mixture = models::choose_sampler(req.sampler, info);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
    const int64_t z_dim = model.latent(), s = req.steps, r = req.rows;
    auto alpha = torch::linspace(0.0, 1.0, s).view({1, s, 1});  // (1, S, 1)
    auto z0 = models::sample_latent(model, from, r, req.temperature, gen, mixture).unsqueeze(1);
    auto z1 = models::sample_latent(model, from, r, req.temperature, gen, mixture).unsqueeze(1);
    auto c_from = data::encode_conditions(conds, from);  // (1, C)
    // Rows 1..R: from z0 to z1 at the fixed label.
    auto z = ((1 - alpha) * z0 + alpha * z1).reshape({r * s, z_dim});
    std::vector<torch::Tensor> parts = {models::decode_mean(model, z, c_from.expand({r * s, -1}))};
    int64_t grid_rows = r;
    if (!req.to_label.empty()) {
      auto to = one_label(conds, req.to_label, "--to-label");
      auto c_to = data::encode_conditions(conds, to);
      // Rows R+1..2R: one z (z0 of each row), the condition moving from one label to the other.
      auto a = alpha.view({1, s, 1});
      auto c = ((1 - a) * c_from.view({1, 1, -1}) + a * c_to.view({1, 1, -1})).expand({r, s, -1});
      auto zc = z0.expand({r, s, z_dim});
      parts.push_back(
          models::decode_mean(model, zc.reshape({r * s, z_dim}), c.reshape({r * s, -1})));
      grid_rows += r;
    }
    core::create_parent_dirs(out_path);
    write_png_grid(out_path, torch::cat(parts, 0), grid_rows, s);
    return InterpolateResult{{out_path}, {}};
  }

  // ---- evaluation ----
  void check_judge(const ModelConfig& model, const models::ClassifierConfig& judge,
                   const std::string& judge_path) const override {
    if (judge.input_shape != model.input_shape) {
      throw ConfigError(
          fmt::format("the judge '{}' takes examples of shape {} (the model's are {})", judge_path,
                      fmt::join(judge.input_shape, "x"), fmt::join(model.input_shape, "x")));
    }
  }

  FidelityResult measure_fidelity(const FidelityContext& ctx) const override {
    FidelityOptions opt;
    opt.samples_per_label = ctx.request.samples_per_label;
    opt.temperature = ctx.sampling.latent_temperature;
    opt.candidates = ctx.sampling.decode.rerank;
    opt.transfer_examples = ctx.request.transfer_examples;
    return image::measure_fidelity(ctx.model, ctx.judge, ctx.judge_config.condition.labels,
                                   ctx.real, ctx.mixture, opt, ctx.gen);
  }
};

}  // namespace

void register_image() {
  models::register_backbone(conv_backbone());
  register_modality(std::make_shared<ImageModality>());
}

}  // namespace cvae::modalities::image
