#include "modalities/text/rnn.h"

#include <cmath>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "models/cvae_model.h"

namespace cvae::modalities::text {

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
        "generate text with modalities::text::decode_text");
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

RecurrentDecoder& recurrent_decoder(models::CVAEImpl& model) {
  auto* dec = dynamic_cast<RecurrentDecoder*>(&model.decoder());
  if (!dec) throw ConfigError("text decoding needs a text model (this one is not)");
  return *dec;
}

namespace {

void check_range(const char* field, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi)) {
    throw ConfigError(
        fmt::format("{} out of range (got {} vs expected {}..{})", field, value, lo, hi));
  }
}

class RnnBackbone final : public models::Backbone {
 public:
  std::string name() const override { return "rnn"; }

  void validate(const ModelConfig& cfg) const override {
    if (cfg.input_shape.size() != 1) {
      throw ConfigError(fmt::format("text needs a 1-dimensional shape (got {} dimensions)",
                                    cfg.input_shape.size()));
    }
    check_range("vocabulary size", static_cast<double>(cfg.vocabulary.size()), 5, 1 << 22);
    check_range("--embedding", static_cast<double>(cfg.embedding), 1, 65536);
    if (!std::isfinite(cfg.word_dropout)) {
      throw ConfigError(
          fmt::format("--word-dropout must be a finite number (got {})", cfg.word_dropout));
    }
    check_range("--word-dropout", cfg.word_dropout, 0.0, 1.0);
    if (cfg.hidden.size() != 1) {
      throw ConfigError(fmt::format(
          "rnn takes one hidden width, the GRU state size (got {} widths)", cfg.hidden.size()));
    }
  }

  double parameters(const ModelConfig& cfg, int64_t /*params_per_feature*/) const override {
    // Embeddings, GRUs (3 gates), output layer, heads.
    const double v = static_cast<double>(cfg.vocabulary.size());
    const double e = static_cast<double>(cfg.embedding);
    const double h = static_cast<double>(cfg.hidden[0]), z = static_cast<double>(cfg.latent);
    const double cond = static_cast<double>(condition_width(cfg.conditions));
    return 2 * v * e + 3 * h * (e + cond + h + 2) + 3 * h * (e + z + cond + h + 2) +
           (h + z + cond + 1) * v + 2 * (h + cond) * z;
  }

  std::shared_ptr<models::EncoderBase> encoder(const ModelConfig& cfg) const override {
    return std::make_shared<RecurrentEncoder>(static_cast<int64_t>(cfg.vocabulary.size()),
                                              cfg.embedding, condition_width(cfg.conditions),
                                              cfg.hidden[0], cfg.latent);
  }

  std::shared_ptr<models::DecoderBase> decoder(const ModelConfig& cfg,
                                               int64_t /*params_per_feature*/) const override {
    return std::make_shared<RecurrentDecoder>(static_cast<int64_t>(cfg.vocabulary.size()),
                                              cfg.embedding, condition_width(cfg.conditions),
                                              cfg.hidden[0], cfg.latent, cfg.word_dropout);
  }

  std::string describe(const ModelConfig& cfg) const override {
    return fmt::format(" (GRU, embedding {}, word dropout {}, vocabulary {} tokens)", cfg.embedding,
                       cfg.word_dropout, cfg.vocabulary.size());
  }

  std::string size_hint() const override {
    return "a smaller --hidden, --embedding or vocabulary (--min-count)";
  }
};

}  // namespace

std::shared_ptr<const models::Backbone> rnn_backbone() { return std::make_shared<RnnBackbone>(); }

}  // namespace cvae::modalities::text
