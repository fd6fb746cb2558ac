// training::fit_mixture_bytes and cvae::fit_sampler (include/cvae/api.h).
#include "train/latent_fit.h"

#include <fmt/format.h>

#include "core/runtime.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/torch_threads.h"
#include "modalities/modality.h"
#include "models/latent_density.h"
#include "models/model_file.h"

namespace cvae {
namespace training {

std::string fit_mixture_bytes(models::CVAEImpl& model, const data::Dataset& d, int64_t components,
                              uint64_t seed, bool from_means) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed + 104729);
  std::vector<torch::Tensor> zs;
  for (int64_t start = 0; start < d.size(); start += 512) {
    const int64_t end = std::min(start + 512, d.size());
    auto c = data::encode_conditions(d.conditions, d.y.slice(0, start, end));
    auto [mu, logvar] = model.encode(d.x.slice(0, start, end), c);
    zs.push_back(from_means
                     ? mu
                     : models::CVAEImpl::reparameterize(mu, logvar, torch::randn(mu.sizes(), gen)));
  }
  model.train(was_training);
  if (zs.empty()) return {};
  auto mix = models::fit_latent_mixture(torch::cat(zs, 0), d.y, components, seed);
  return mix.defined() ? models::mixture_to_bytes(mix) : std::string();
}

}  // namespace training

FitSamplerResult fit_sampler(const FitSamplerRequest& req) {
  modalities::register_builtins();
  if (req.components < 1 || req.components > 1000) {
    throw ConfigError(
        fmt::format("--components out of range (got {} vs expected 1..1000)", req.components));
  }
  if (req.source != "samples" && req.source != "means") {
    throw ConfigError(
        fmt::format("unknown --fit-to (got '{}' vs expected samples or means)", req.source));
  }
  data::set_threads(req.threads);
  models::ModelFile f = models::load_model_file(req.model);
  models::CVAE model(f.model);
  models::module_from_bytes(*model, f.weights, fmt::format("model file '{}'", req.model));
  data::Dataset all = modalities::load_dataset_for(req.data, "train", f.model.modality,
                                                   f.model.input_shape, f.model.vocabulary);
  data::check_compatible(all, f.model.input_shape, f.model.conditions);
  // The examples the model was trained on: the training split less validation.
  auto train_set = data::split_validation(all, f.train.val_fraction, f.train.seed).first;
  f.latent_mixture = training::fit_mixture_bytes(*model, train_set, req.components, req.seed,
                                                 req.source == "means");
  if (f.latent_mixture.empty())
    throw DataError("no label has 2 or more training examples to fit a latent mixture to");
  f.train.gmm_components = req.components;
  const std::string out = req.out.empty() ? req.model : req.out;
  models::save_model_file(out, f);
  FitSamplerResult r;
  r.path = out;
  r.examples = train_set.size();
  r.components = req.components;
  return r;
}

}  // namespace cvae
