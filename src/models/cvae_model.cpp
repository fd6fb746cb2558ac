#include "models/cvae_model.h"

#include <fmt/format.h>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "core/weight_names.h"

namespace cvae::models {

PriorNet::PriorNet(int64_t cond_width, int64_t latent) {
  hidden_ = register_module(weights::kHidden, torch::nn::Linear(cond_width, weights::kPriorWidth));
  mu_head_ = register_module(weights::kMuHead, torch::nn::Linear(weights::kPriorWidth, latent));
  logvar_head_ =
      register_module(weights::kLogvarHead, torch::nn::Linear(weights::kPriorWidth, latent));
}

std::pair<torch::Tensor, torch::Tensor> PriorNet::forward(const torch::Tensor& c) {
  auto h = torch::relu(hidden_->forward(c));
  return {mu_head_->forward(h), logvar_head_->forward(h)};
}

CVAEImpl::CVAEImpl(ModelConfig cfg) : cfg_(resolve_model_config(std::move(cfg))) {
  features_ = 1;
  for (auto d : cfg_.input_shape) features_ *= d;
  likelihood_ = make_likelihood(cfg_.likelihood, static_cast<int64_t>(cfg_.vocabulary.size()));
  const int64_t cond = condition_width(cfg_.conditions);
  // Registration order is file format: it is the order of the flat Adam state
  // in resumable files, and with the seed it decides the initial weights.
  const Backbone& net = backbone(cfg_.arch);
  encoder_ = register_module(weights::kEncoder, net.encoder(cfg_));
  decoder_ =
      register_module(weights::kDecoder, net.decoder(cfg_, likelihood_->params_per_feature()));
  if (cfg_.prior == "learned") {
    prior_ = register_module(weights::kPrior, std::make_shared<PriorNet>(cond, cfg_.latent));
  }
  if (cfg_.classifier) {
    ClassifierConfig cc;
    cc.modality = cfg_.modality;
    cc.input_shape = cfg_.input_shape;
    cc.condition = cfg_.conditions.at(0);
    cc.vocabulary = cfg_.vocabulary;
    classifier_ = register_module(weights::kClassifier, std::make_shared<ClassifierImpl>(cc));
  }
}

ClassifierImpl& CVAEImpl::classifier() {
  if (!classifier_) throw ConfigError("this model has no classifier q(y|x) (not semi-supervised)");
  return *classifier_;
}

torch::Tensor CVAEImpl::classify(const torch::Tensor& x) { return classifier().forward(x); }

std::pair<torch::Tensor, torch::Tensor> CVAEImpl::prior(const torch::Tensor& c) {
  if (!prior_) {
    auto zeros = torch::zeros({c.size(0), cfg_.latent}, c.options());
    return {zeros, zeros};
  }
  auto [mu, logvar] = prior_->forward(c);
  return {mu, torch::clamp(logvar, cfg_.logvar_min, cfg_.logvar_max)};
}

torch::Tensor CVAEImpl::kl_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar,
                                   const torch::Tensor& c) {
  if (!prior_) return kl_standard_normal_per_dim(mu, logvar);
  auto [mu_p, logvar_p] = prior(c);
  return kl_normal_per_dim(mu, logvar, mu_p, logvar_p);
}

std::pair<torch::Tensor, torch::Tensor> CVAEImpl::encode(const torch::Tensor& x,
                                                         const torch::Tensor& c) {
  auto [mu, logvar] = encoder_->forward(x, c);
  // Clamping keeps exp(logvar) finite early in training (a common NaN source).
  return {mu, torch::clamp(logvar, cfg_.logvar_min, cfg_.logvar_max)};
}

torch::Tensor CVAEImpl::decode(const torch::Tensor& z, const torch::Tensor& c,
                               const torch::Tensor& x) {
  return decoder_->forward(z, c, x);
}

torch::Tensor CVAEImpl::reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                                       const torch::Tensor& eps) {
  return mu + torch::exp(0.5 * logvar) * eps;
}

CVAEImpl::Output CVAEImpl::forward(const torch::Tensor& x, const torch::Tensor& c,
                                   const torch::Tensor& eps) {
  Output out;
  std::tie(out.mu, out.logvar) = encode(x, c);
  out.z = reparameterize(out.mu, out.logvar, eps);
  out.x_params = decode(out.z, c, x);
  return out;
}

torch::Tensor kl_standard_normal_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return 0.5 * (mu.pow(2) + torch::exp(logvar) - 1.0 - logvar);
}

torch::Tensor kl_normal_per_dim(const torch::Tensor& mu_q, const torch::Tensor& logvar_q,
                                const torch::Tensor& mu_p, const torch::Tensor& logvar_p) {
  return 0.5 * (logvar_p - logvar_q +
                (torch::exp(logvar_q) + (mu_q - mu_p).pow(2)) * torch::exp(-logvar_p) - 1.0);
}

torch::Tensor kl_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return kl_standard_normal_per_dim(mu, logvar).sum(1);
}

LossTerms elbo_loss(CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& c,
                    const torch::Tensor& eps, double beta, double free_bits) {
  auto out = model.forward(x, c, eps);
  LossTerms t;
  t.loss_recon = model.likelihood().nll(out.x_params, x.flatten(1));  // (B,)
  auto kl = model.kl_per_dim(out.mu, out.logvar, c);                  // (B, Z)
  t.loss_kl = kl.sum(1);                                              // (B,)
  t.mu = out.mu;
  t.logvar = out.logvar;
  t.kl_per_dim = kl;
  if (free_bits > 0) {
    t.loss = t.loss_recon.mean() + beta * kl.mean(0).clamp_min(free_bits).sum();
  } else {
    t.loss = (t.loss_recon + beta * t.loss_kl).mean();  // mean over the batch
  }
  return t;
}

int64_t active_units(const torch::Tensor& mu, double threshold) {
  if (mu.size(0) < 2) return 0;
  auto var = mu.to(torch::kFloat64).var(0, /*unbiased=*/true);  // (Z,)
  return (var > threshold).sum().item<int64_t>();
}

torch::Tensor predict_with(CVAEImpl& model, const torch::Tensor& x, int64_t batch) {
  return predict(model.classifier(), x, batch);
}

LossTerms m2_loss(CVAEImpl& model, const torch::Tensor& x_l, const torch::Tensor& y_l,
                  const torch::Tensor& x_u, at::Generator& gen, double beta, double alpha) {
  const auto& conds = model.config().conditions;
  const int64_t z_dim = model.latent();
  const int64_t labels = static_cast<int64_t>(conds.at(0).labels.size());
  LossTerms t;
  std::vector<torch::Tensor> recon, kl;
  torch::Tensor loss =
      torch::zeros({}, x_l.defined() && x_l.numel() ? x_l.options() : x_u.options());
  if (x_l.size(0) > 0) {
    auto c = data::encode_conditions(conds, y_l.view({-1, 1}));
    auto eps = torch::randn({x_l.size(0), z_dim}, gen);
    auto terms = elbo_loss(model, x_l, c, eps, beta);
    auto ce = torch::nn::functional::cross_entropy(model.classify(x_l), y_l);
    loss = loss + terms.loss + alpha * ce;
    recon.push_back(terms.loss_recon.detach());
    kl.push_back(terms.loss_kl.detach());
  }
  if (x_u.size(0) > 0) {
    const int64_t u = x_u.size(0);
    // Every unlabelled example with every label: (U*L, S...), label-minor.
    auto x_rep = x_u.repeat_interleave(labels, 0);
    auto y_rep = torch::arange(labels, torch::kInt64).repeat({u}).view({-1, 1});
    auto c = data::encode_conditions(conds, y_rep);
    auto eps = torch::randn({u * labels, z_dim}, gen);
    auto out = model.forward(x_rep, c, eps);
    auto r = model.likelihood().nll(out.x_params, x_rep.flatten(1)).view({u, labels});
    auto k = model.kl_per_dim(out.mu, out.logvar, c).sum(1).view({u, labels});
    auto log_q = torch::log_softmax(model.classify(x_u), 1);  // (U, L)
    auto q = log_q.exp();
    auto per_example = (q * (r + beta * k)).sum(1) + (q * log_q).sum(1);  // + negative entropy
    loss = loss + per_example.mean();
    recon.push_back((q * r).sum(1).detach());
    kl.push_back((q * k).sum(1).detach());
  }
  t.loss = loss;
  t.loss_recon = torch::cat(recon, 0);
  t.loss_kl = torch::cat(kl, 0);
  return t;
}

}  // namespace cvae::models
