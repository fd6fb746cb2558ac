#include "models/cvae_model.h"

#include <fmt/format.h>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "models/weight_names.h"

namespace cvae::models {

MLPEncoder::MLPEncoder(int64_t features, int64_t cond_width, const std::vector<int64_t>& hidden,
                       int64_t latent) {
  int64_t in = features + cond_width;
  for (int64_t h : hidden) {
    layers_->push_back(torch::nn::Linear(in, h));
    in = h;
  }
  register_module(weights::kLayers, layers_);
  mu_head_ = register_module(weights::kMuHead, torch::nn::Linear(in, latent));
  logvar_head_ = register_module(weights::kLogvarHead, torch::nn::Linear(in, latent));
}

std::pair<torch::Tensor, torch::Tensor> MLPEncoder::forward(const torch::Tensor& x,
                                                            const torch::Tensor& c) {
  auto h = torch::cat({x.flatten(1), c}, 1);  // (B, D + C)
  for (const auto& layer : *layers_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  return {mu_head_->forward(h), logvar_head_->forward(h)};  // (B, Z), (B, Z)
}

MLPDecoder::MLPDecoder(int64_t latent, int64_t cond_width, const std::vector<int64_t>& hidden,
                       int64_t outputs) {
  int64_t in = latent + cond_width;
  for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
    layers_->push_back(torch::nn::Linear(in, *it));
    in = *it;
  }
  register_module(weights::kLayers, layers_);
  out_ = register_module(weights::kOut, torch::nn::Linear(in, outputs));
}

torch::Tensor MLPDecoder::forward(const torch::Tensor& z, const torch::Tensor& c,
                                  const torch::Tensor& /*x*/) {
  auto h = torch::cat({z, c}, 1);  // (B, Z + C)
  for (const auto& layer : *layers_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  return out_->forward(h);  // (B, P*D)
}

ConvEncoder::ConvEncoder(const std::vector<int64_t>& input_shape,
                         const std::vector<int64_t>& channels, int64_t cond_width,
                         const std::vector<int64_t>& hidden, int64_t latent) {
  int64_t in = input_shape[0];
  for (int64_t ch : channels) {
    convs_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, ch, 4).stride(2).padding(1)));
    in = ch;
  }
  const auto hs = conv_spatial_sizes(input_shape[1], channels.size());
  const auto ws = conv_spatial_sizes(input_shape[2], channels.size());
  in = in * hs.back() * ws.back() + cond_width;
  for (int64_t h : hidden) {
    dense_->push_back(torch::nn::Linear(in, h));
    in = h;
  }
  register_module("convs", convs_);
  register_module("dense", dense_);
  mu_head_ = register_module("mu_head", torch::nn::Linear(in, latent));
  logvar_head_ = register_module("logvar_head", torch::nn::Linear(in, latent));
}

std::pair<torch::Tensor, torch::Tensor> ConvEncoder::forward(const torch::Tensor& x,
                                                             const torch::Tensor& c) {
  auto h = x;  // (B, C, H, W)
  for (const auto& conv : *convs_) h = torch::relu(conv->as<torch::nn::Conv2d>()->forward(h));
  h = torch::cat({h.flatten(1), c}, 1);  // (B, C_L * h_L * w_L + C)
  for (const auto& layer : *dense_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  return {mu_head_->forward(h), logvar_head_->forward(h)};  // (B, Z), (B, Z)
}

ConvDecoder::ConvDecoder(const std::vector<int64_t>& input_shape,
                         const std::vector<int64_t>& channels, int64_t cond_width,
                         const std::vector<int64_t>& hidden, int64_t latent,
                         int64_t params_per_feature) {
  const auto hs = conv_spatial_sizes(input_shape[1], channels.size());
  const auto ws = conv_spatial_sizes(input_shape[2], channels.size());
  const size_t layers = channels.size();
  map_shape_ = {channels.back(), hs.back(), ws.back()};
  int64_t in = latent + cond_width;
  for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
    dense_->push_back(torch::nn::Linear(in, *it));
    in = *it;
  }
  dense_->push_back(torch::nn::Linear(in, map_shape_[0] * map_shape_[1] * map_shape_[2]));
  // Transposed convolution i maps size s to 2s + output_padding; the padding
  // (0 or 1) restores the encoder's size before its stride-2 convolution.
  for (size_t i = layers; i-- > 0;) {
    const int64_t cin = channels[i] + cond_width;  // c joins every transposed convolution
    const int64_t cout = i == 0 ? params_per_feature * input_shape[0] : channels[i - 1];
    const int64_t ph = hs[i] - 2 * hs[i + 1], pw = ws[i] - 2 * ws[i + 1];
    deconvs_->push_back(torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(cin, cout, 4)
                                                       .stride(2)
                                                       .padding(1)
                                                       .output_padding({ph, pw})));
  }
  register_module("dense", dense_);
  register_module("deconvs", deconvs_);
}

torch::Tensor ConvDecoder::forward(const torch::Tensor& z, const torch::Tensor& c,
                                   const torch::Tensor& /*x*/) {
  auto h = torch::cat({z, c}, 1);  // (B, Z + C)
  for (const auto& layer : *dense_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  h = h.view({h.size(0), map_shape_[0], map_shape_[1], map_shape_[2]});
  const size_t n = deconvs_->size();
  auto c_maps = c.view({c.size(0), c.size(1), 1, 1});  // (B, C, 1, 1)
  for (size_t i = 0; i < n; ++i) {
    // The condition as C constant maps beside the features: every layer sees the label.
    h = torch::cat({h, c_maps.expand({-1, -1, h.size(2), h.size(3)})}, 1);
    h = deconvs_[i]->as<torch::nn::ConvTranspose2d>()->forward(h);
    if (i + 1 < n) h = torch::relu(h);
  }
  return h.flatten(1);  // (B, P*C, H, W) -> (B, P*D), P-major
}

RecurrentEncoder::RecurrentEncoder(int64_t vocab, int64_t embedding, int64_t cond_width,
                                   int64_t hidden, int64_t latent) {
  embed_ = register_module("embed", torch::nn::Embedding(vocab, embedding));
  gru_ = register_module(
      "gru",
      torch::nn::GRU(torch::nn::GRUOptions(embedding + cond_width, hidden).batch_first(true)));
  mu_head_ = register_module("mu_head", torch::nn::Linear(hidden + cond_width, latent));
  logvar_head_ = register_module("logvar_head", torch::nn::Linear(hidden + cond_width, latent));
}

std::pair<torch::Tensor, torch::Tensor> RecurrentEncoder::forward(const torch::Tensor& x,
                                                                  const torch::Tensor& c) {
  const int64_t b = x.size(0), t = x.size(1);
  auto inputs = torch::cat({embed_->forward(x), c.unsqueeze(1).expand({b, t, c.size(1)})},
                           2);                                        // (B, T, E + C)
  auto states = std::get<0>(gru_->forward(inputs));                   // (B, T, H)
  auto last = (x != RecurrentDecoder::kPad).sum(1).clamp_min(1) - 1;  // (B,) last real position
  auto index = last.view({b, 1, 1}).expand({b, 1, states.size(2)});
  auto h = torch::cat({states.gather(1, index).squeeze(1), c}, 1);  // (B, H + C)
  return {mu_head_->forward(h), logvar_head_->forward(h)};          // (B, Z), (B, Z)
}

RecurrentDecoder::RecurrentDecoder(int64_t vocab, int64_t embedding, int64_t cond_width,
                                   int64_t hidden, int64_t latent, double word_dropout)
    : vocab_(vocab), word_dropout_(word_dropout) {
  embed_ = register_module("embed", torch::nn::Embedding(vocab, embedding));
  init_ = register_module("init", torch::nn::Linear(latent + cond_width, hidden));
  gru_ = register_module(
      "gru", torch::nn::GRU(
                 torch::nn::GRUOptions(embedding + latent + cond_width, hidden).batch_first(true)));
  out_ = register_module("out", torch::nn::Linear(hidden + latent + cond_width, vocab));
}

torch::Tensor RecurrentDecoder::initial_state(const torch::Tensor& zc) {
  return torch::tanh(init_->forward(zc)).unsqueeze(0);  // (1, B, H)
}

torch::Tensor RecurrentDecoder::forward(const torch::Tensor& z, const torch::Tensor& c,
                                        const torch::Tensor& x) {
  if (!x.defined()) {
    throw ConfigError(
        "the recurrent decoder needs the tokens it explains (teacher forcing); "
        "generate text with serve::decode_text");
  }
  const int64_t b = x.size(0), t = x.size(1);
  auto zc = torch::cat({z, c}, 1);  // (B, Z + C)
  // Inputs: <bos>, then the text shifted right by one position: (B, T).
  auto prev = torch::cat({torch::full({b, 1}, kBos, x.options()), x.slice(1, 0, t - 1)}, 1);
  if (is_training() && word_dropout_ > 0) {
    auto u = gen_ ? torch::rand({b, t}, *gen_) : torch::rand({b, t});
    auto drop = u < word_dropout_;
    drop.select(1, 0).fill_(false);  // <bos> stays
    prev = torch::where(drop & (prev != kPad), torch::full_like(prev, kUnk), prev);
  }
  auto inputs = torch::cat({embed_->forward(prev), zc.unsqueeze(1).expand({b, t, zc.size(1)})},
                           2);                                          // (B, T, E+Z+C)
  auto states = std::get<0>(gru_->forward(inputs, initial_state(zc)));  // (B, T, H)
  auto features = torch::cat({states, zc.unsqueeze(1).expand({b, t, zc.size(1)})}, 2);
  return out_->forward(features).reshape({b, t * vocab_});  // (B, T*V)
}

torch::Tensor RecurrentDecoder::step(const torch::Tensor& prev, torch::Tensor& h,
                                     const torch::Tensor& zc) {
  auto inputs = torch::cat({embed_->forward(prev), zc}, 1).unsqueeze(1);  // (B, 1, E+Z+C)
  auto [states, h_next] = gru_->forward(inputs, h);
  h = h_next;
  return out_->forward(torch::cat({states.squeeze(1), zc}, 1));  // (B, V)
}

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

CVAEImpl::CVAEImpl(ModelConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  cfg_.arch = resolved_arch(cfg_);
  cfg_.likelihood = resolved_likelihood(cfg_);
  features_ = 1;
  for (auto d : cfg_.input_shape) features_ *= d;
  const auto vocab = static_cast<int64_t>(cfg_.vocabulary.size());
  likelihood_ = make_likelihood(cfg_.likelihood, vocab);
  const int64_t cond = condition_width(cfg_.conditions);
  const int64_t outputs = likelihood_->params_per_feature() * features_;
  if (cfg_.arch == "rnn") {
    encoder_ = register_module(weights::kEncoder,
                               std::make_shared<RecurrentEncoder>(vocab, cfg_.embedding, cond,
                                                                  cfg_.hidden[0], cfg_.latent));
    recurrent_decoder_ = std::make_shared<RecurrentDecoder>(
        vocab, cfg_.embedding, cond, cfg_.hidden[0], cfg_.latent, cfg_.word_dropout);
    decoder_ = register_module(weights::kDecoder, recurrent_decoder_);
  } else if (cfg_.arch == "conv") {
    encoder_ = register_module(weights::kEncoder,
                               std::make_shared<ConvEncoder>(cfg_.input_shape, cfg_.channels, cond,
                                                             cfg_.hidden, cfg_.latent));
    decoder_ = register_module(
        weights::kDecoder,
        std::make_shared<ConvDecoder>(cfg_.input_shape, cfg_.channels, cond, cfg_.hidden,
                                      cfg_.latent, likelihood_->params_per_feature()));
  } else {
    encoder_ = register_module(
        weights::kEncoder, std::make_shared<MLPEncoder>(features_, cond, cfg_.hidden, cfg_.latent));
    decoder_ = register_module(
        weights::kDecoder, std::make_shared<MLPDecoder>(cfg_.latent, cond, cfg_.hidden, outputs));
  }
  if (cfg_.prior == "learned") {
    prior_ = register_module(weights::kPrior, std::make_shared<PriorNet>(cond, cfg_.latent));
  }
  if (cfg_.classifier) {
    ClassifierConfig cc;
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
