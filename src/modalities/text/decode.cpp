#include "modalities/text/decode.h"

#include <cmath>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/text/rnn.h"
#include "models/sampling.h"

namespace cvae::modalities::text {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Tokens a text never contains: <pad>, <unk>, <bos>. logits (B, V) in place.
void mask_specials(torch::Tensor& logits) {
  logits.index_fill_(
      1, torch::tensor({RecurrentDecoder::kPad, RecurrentDecoder::kUnk, RecurrentDecoder::kBos}),
      kNegInf);
}

// One draw per row from softmax(logits / temperature), restricted to the top k
// and to the nucleus of mass top_p (Holtzman et al. 2020). logits (B, V) -> (B,)
torch::Tensor draw(torch::Tensor logits, const DecodeOptions& opt, at::Generator& gen) {
  logits = logits / opt.temperature;
  const int64_t v = logits.size(1);
  if (opt.top_k > 0 && opt.top_k < v) {
    auto kth = std::get<0>(logits.topk(opt.top_k, 1)).select(1, opt.top_k - 1).unsqueeze(1);
    logits = logits.masked_fill(logits < kth, kNegInf);
  }
  if (opt.top_p < 1.0) {
    auto [sorted, order] = logits.sort(1, /*descending=*/true);
    auto cum = torch::softmax(sorted, 1).cumsum(1);
    // Drop a token when the mass before it already reaches top_p (the first always stays).
    auto drop_sorted = (cum - torch::softmax(sorted, 1)) >= opt.top_p;
    auto drop = torch::zeros_like(drop_sorted).scatter(1, order, drop_sorted);
    logits = logits.masked_fill(drop, kNegInf);
  }
  return torch::multinomial(torch::softmax(logits, 1), 1, true, gen).squeeze(1);
}

torch::Tensor decode_greedy_or_sample(RecurrentDecoder& dec, const torch::Tensor& zc, int64_t t,
                                      const DecodeOptions& opt, at::Generator& gen) {
  const int64_t n = zc.size(0);
  auto out = torch::full({n, t}, RecurrentDecoder::kPad, torch::kInt64);
  auto prev = torch::full({n}, RecurrentDecoder::kBos, torch::kInt64);
  auto done = torch::zeros({n}, torch::kBool);
  auto h = dec.initial_state(zc);
  for (int64_t i = 0; i < t; ++i) {
    auto logits = dec.step(prev, h, zc);
    mask_specials(logits);
    auto tok = opt.method == "sample" ? draw(logits, opt, gen) : logits.argmax(1);
    tok = tok.masked_fill(done, RecurrentDecoder::kPad);
    out.select(1, i).copy_(tok);
    done = done | (tok == RecurrentDecoder::kEos);
    if (done.all().item<bool>()) break;
    prev = tok;
  }
  return out;
}

torch::Tensor decode_beam(RecurrentDecoder& dec, const torch::Tensor& zc, int64_t t,
                          int64_t width) {
  const int64_t n = zc.size(0), v = dec.vocab(), w = width, nw = n * w;
  auto zcb = zc.repeat_interleave(w, 0);  // (N*W, Z+C), beam-minor
  auto h = dec.initial_state(zcb);        // (1, N*W, H)
  // Only the first beam of each row is alive at the start.
  auto scores = torch::full({n, w}, kNegInf, torch::kFloat32);
  scores.select(1, 0).fill_(0);
  auto hist = torch::full({nw, t}, RecurrentDecoder::kPad, torch::kInt64);
  auto lengths = torch::zeros({nw}, torch::kFloat32);  // tokens so far, <eos> included
  auto done = torch::zeros({nw}, torch::kBool);
  auto prev = torch::full({nw}, RecurrentDecoder::kBos, torch::kInt64);
  auto base = (torch::arange(n, torch::kInt64) * w).unsqueeze(1);  // (N, 1)
  for (int64_t i = 0; i < t; ++i) {
    auto logp = torch::log_softmax(dec.step(prev, h, zcb), 1);  // (N*W, V)
    mask_specials(logp);
    // A finished hypothesis only continues with <pad>, at no cost.
    auto frozen = torch::full({v}, kNegInf, logp.options());
    frozen[RecurrentDecoder::kPad] = 0;
    logp = torch::where(done.unsqueeze(1), frozen.unsqueeze(0).expand({nw, v}), logp);
    auto cand = (scores.view({nw, 1}) + logp).view({n, w * v});
    auto [best, idx] = cand.topk(w, 1);                  // (N, W)
    auto src = (idx.div(v, "floor") + base).view({nw});  // beam each new one extends
    auto tok = idx.remainder(v).view({nw});
    scores = best;
    hist = hist.index_select(0, src);
    hist.select(1, i).copy_(tok);
    h = h.index_select(1, src);
    done = done.index_select(0, src);
    lengths = lengths.index_select(0, src) + (~done).to(torch::kFloat32);
    done = done | (tok == RecurrentDecoder::kEos);
    prev = tok;
    if (done.all().item<bool>()) break;
  }
  // Highest log-probability per token among each row's hypotheses.
  auto norm = (scores.view({nw}) / lengths.clamp_min(1)).view({n, w});
  auto pick = norm.argmax(1) + base.squeeze(1);  // (N,)
  return hist.index_select(0, pick);
}

}  // namespace

torch::Tensor decode_text(models::CVAEImpl& model, const torch::Tensor& z, const torch::Tensor& c,
                          const DecodeOptions& opt, at::Generator& gen) {
  opt.validate();
  RecurrentDecoder* dec = &recurrent_decoder(model);
  torch::NoGradGuard no_grad;
  const int64_t t = model.config().input_shape.at(0);
  auto zc = torch::cat({z, c}, 1);
  // Rows are independent: decode in chunks to bound memory (beam: N*W rows of V logits).
  const int64_t chunk = opt.method == "beam" ? std::max<int64_t>(1, 512 / opt.beam) : 1024;
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < zc.size(0); s += chunk) {
    auto part = zc.slice(0, s, std::min(s + chunk, zc.size(0)));
    parts.push_back(opt.method == "beam" ? decode_beam(*dec, part, t, opt.beam)
                                         : decode_greedy_or_sample(*dec, part, t, opt, gen));
  }
  return parts.empty() ? torch::empty({0, t}, torch::kInt64) : torch::cat(parts, 0);
}

torch::Tensor decode_text_reranked(models::CVAEImpl& model,
                                   const std::function<torch::Tensor()>& draw_z,
                                   const torch::Tensor& target_rows, const DecodeOptions& opt,
                                   at::Generator& gen) {
  opt.validate();
  auto c = data::encode_conditions(model.config().conditions, target_rows);
  return models::best_of(
      model, [&] { return decode_text(model, draw_z(), c, opt, gen); }, target_rows, opt.rerank);
}

torch::Tensor sample_text(models::CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                          double latent_temperature, const models::LatentMixture& mixture,
                          const DecodeOptions& opt, at::Generator& gen) {
  return decode_text_reranked(
      model,
      [&] { return models::sample_latent(model, rows, n, latent_temperature, gen, mixture); },
      rows.repeat_interleave(n, 0), opt, gen);
}

}  // namespace cvae::modalities::text
