#include "lite/mlp_sampler.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "lite/normal_stream.h"
#include "modalities/image/lite/image_output.h"
#include "core/weight_names.h"

namespace cvae::lite {

namespace {

constexpr int64_t kChunk = 1024;  // rows decoded at once

// out (rows x l.out) = in (rows x l.in) W^T + b, then ReLU when asked.
void dense(const Dense& l, const float* in, int64_t rows, float* out, bool relu) {
  for (int64_t i = 0; i < rows; ++i) std::copy(l.b, l.b + l.out, out + i * l.out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
              static_cast<int>(l.out), static_cast<int>(l.in), 1.0f, in, static_cast<int>(l.in),
              l.w, static_cast<int>(l.in), 1.0f, out, static_cast<int>(l.out));
  if (relu)
    for (int64_t i = 0; i < rows * l.out; ++i) out[i] = out[i] < 0.0f ? 0.0f : out[i];
}

}  // namespace

bool sampler_supports(const ModelConfig& cfg) {
  return modalities::image::is_image_model(cfg) && cfg.input_shape.size() == 3 &&
         cfg.arch == "mlp" && cfg.likelihood == "bernoulli" && !cfg.hidden.empty() &&
         (cfg.prior == "standard" || cfg.prior == "learned");
}

MlpDecoder mlp_decoder(const ModelConfig& cfg, const ParameterLookup& get) {
  MlpDecoder d;
  d.latent = cfg.latent;
  d.cond_width = condition_width(cfg.conditions);
  d.features = 1;
  for (int64_t s : cfg.input_shape) d.features *= s;
  d.logvar_min = static_cast<float>(cfg.logvar_min);
  d.logvar_max = static_cast<float>(cfg.logvar_max);
  int64_t offset = 0;
  for (const auto& c : cfg.conditions) {
    d.cond_offsets.push_back(offset);
    offset += static_cast<int64_t>(c.labels.size());
  }
  auto layer = [&](const std::string& name, int64_t in, int64_t out) {
    Dense l;
    l.in = in;
    l.out = out;
    l.w = get(name + ".weight", {out, in});
    l.b = get(name + ".bias", {out});
    return l;
  };
  int64_t in = d.latent + d.cond_width;
  for (size_t i = 0; i < cfg.hidden.size(); ++i) {
    const int64_t width = cfg.hidden[cfg.hidden.size() - 1 - i];  // the encoder's, reversed
    d.layers.push_back(layer(weights::decoder_layer(i), in, width));
    in = width;
  }
  d.layers.push_back(layer(weights::decoder_out(), in, d.features));
  d.learned_prior = cfg.prior == "learned";
  if (d.learned_prior) {
    d.prior_hidden =
        layer(weights::prior_hidden(), d.cond_width, weights::kPriorWidth);
    d.prior_mu = layer(weights::prior_mu_head(), weights::kPriorWidth, d.latent);
    d.prior_logvar =
        layer(weights::prior_logvar_head(), weights::kPriorWidth, d.latent);
  }
  return d;
}

std::vector<float> sample_means(const MlpDecoder& dec, const io::LabelRows& rows, int64_t n,
                                double temperature, uint64_t seed) {
  const int64_t N = static_cast<int64_t>(rows.size()) * n, Z = dec.latent, C = dec.cond_width;
  // The noise first, all of it, so it does not depend on the chunking.
  std::vector<float> eps(static_cast<size_t>(N * Z));
  NormalStream(seed).fill(eps.data(), N * Z);
  std::vector<float> means(static_cast<size_t>(N * dec.features));
  const float t = static_cast<float>(temperature);
  std::vector<float> c, zc, ph, mu, lv, a, b;
  for (int64_t s = 0; s < N; s += kChunk) {
    const int64_t m = std::min(kChunk, N - s);
    c.assign(static_cast<size_t>(m * C), 0.0f);
    for (int64_t i = 0; i < m; ++i) {
      const auto& row = rows[static_cast<size_t>((s + i) / n)];
      for (size_t k = 0; k < row.size(); ++k) c[i * C + dec.cond_offsets[k] + row[k]] = 1.0f;
    }
    mu.assign(static_cast<size_t>(m * Z), 0.0f);
    lv.assign(static_cast<size_t>(m * Z), 0.0f);
    if (dec.learned_prior) {
      ph.resize(static_cast<size_t>(m * weights::kPriorWidth));
      dense(dec.prior_hidden, c.data(), m, ph.data(), true);
      dense(dec.prior_mu, ph.data(), m, mu.data(), false);
      dense(dec.prior_logvar, ph.data(), m, lv.data(), false);
      for (auto& v : lv)
        v = v < dec.logvar_min ? dec.logvar_min : (v > dec.logvar_max ? dec.logvar_max : v);
    }
    zc.resize(static_cast<size_t>(m * (Z + C)));
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < Z; ++j) {
        const size_t k = static_cast<size_t>(i * Z + j);
        zc[i * (Z + C) + j] = mu[k] + t * std::exp(0.5f * lv[k]) * eps[(s + i) * Z + j];
      }
      std::copy(c.begin() + i * C, c.begin() + (i + 1) * C, zc.begin() + i * (Z + C) + Z);
    }
    const float* in = zc.data();
    for (size_t l = 0; l < dec.layers.size(); ++l) {
      float* dst = means.data() + s * dec.features;  // the last layer's logits
      if (l + 1 < dec.layers.size()) {
        std::vector<float>& hidden = l % 2 == 0 ? a : b;
        hidden.resize(static_cast<size_t>(m * dec.layers[l].out));
        dst = hidden.data();
      }
      dense(dec.layers[l], in, m, dst, l + 1 < dec.layers.size());
      in = dst;
    }
    float* x = means.data() + s * dec.features;
    for (int64_t i = 0; i < m * dec.features; ++i) x[i] = 1.0f / (1.0f + std::exp(-x[i]));
  }
  return means;
}

void to_bytes(const float* x, int64_t n, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(x[i] * 255.0f);
    v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
    out[i] = static_cast<uint8_t>(v);
  }
}

}  // namespace cvae::lite
