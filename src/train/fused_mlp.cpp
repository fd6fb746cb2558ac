#include "train/fused_mlp.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "models/cvae_model.h"
#include "core/weight_names.h"
#include "train/flat_adam.h"
#include "gemm/gemm.h"
#include "train/kernels.h"

namespace cvae::training {

std::string fused_mlp_unsupported(const ModelConfig& m, const TrainConfig& t) {
  const ModelConfig r = models::resolve_model_config(m);
  if (r.arch != "mlp") return fmt::format("the architecture is '{}', not mlp", r.arch);
  if (m.prior != "standard") return fmt::format("the prior is '{}', not standard", m.prior);
  if (r.likelihood != "bernoulli")
    return fmt::format("the likelihood is '{}', not bernoulli", r.likelihood);
  if (m.classifier || t.labelled > 0) return "training is semi-supervised (--labelled)";
  if (t.free_bits != 0) return fmt::format("free bits are on ({})", t.free_bits);
  if (m.hidden.empty()) return "the MLP has no hidden layer";
  return {};
}

namespace {

torch::Tensor flat_view(const torch::Tensor& flat, int64_t offset, at::IntArrayRef shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return flat.narrow(0, offset, n).view(shape);
}

torch::Tensor cols(const torch::Tensor& m, int64_t c0, int64_t c1) {
  return m.narrow(1, c0, c1 - c0);
}

float* ptr(const torch::Tensor& m) { return m.data_ptr<float>(); }

// c = op(a) op(b) + beta c for 2-d float tensors with unit column stride (views
// into the step's buffers), where op(a) is a, or a^T with trans_a.
void matmul(const torch::Tensor& c, const torch::Tensor& a, bool trans_a, const torch::Tensor& b,
            bool trans_b, float beta = 0.0f) {
  const int64_t k = trans_a ? a.size(0) : a.size(1);
  TORCH_INTERNAL_ASSERT(c.size(0) == (trans_a ? a.size(1) : a.size(0)) &&
                        c.size(1) == (trans_b ? b.size(0) : b.size(1)) &&
                        k == (trans_b ? b.size(1) : b.size(0)) && a.stride(1) == 1 &&
                        b.stride(1) == 1 && c.stride(1) == 1);
  kernels::sgemm(trans_a, trans_b, c.size(0), c.size(1), k, 1.0f, ptr(a), a.stride(0), ptr(b),
                 b.stride(0), beta, ptr(c), c.stride(0));
}

// out = in W^T + b for a block of output units (out, w and b cut to them).
void affine(const torch::Tensor& out, const torch::Tensor& in, const torch::Tensor& w,
            const torch::Tensor& b) {
  kernels::fill_rows(ptr(out), ptr(b), out.size(0), out.size(1), out.stride(0));
  matmul(out, in, false, w, true, 1.0f);
}

}  // namespace

FusedMLPStep::FusedMLPStep(models::CVAEImpl& model, optim::FlatAdam& opt, int threads)
    : threads_(std::max(1, threads)), opt_(&opt) {
  const ModelConfig& cfg = model.config();
  features_ = model.features();
  cond_ = condition_width(cfg.conditions);
  latent_ = cfg.latent;
  logvar_min_ = cfg.logvar_min;
  logvar_max_ = cfg.logvar_max;
  grads_ = opt.grads();
  const float* base = grads_.data_ptr<float>();
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : model.named_parameters()) params[item.key()] = item.value();
  size_t found = 0;
  auto layer = [&](const std::string& prefix) {
    auto find = [&](const std::string& name) {
      auto it = params.find(name);
      if (it == params.end())
        throw ConfigError(fmt::format("fused training step: the model has no '{}'", name));
      const torch::Tensor& g = it->second.grad();
      TORCH_CHECK(g.defined() && g.is_contiguous() && g.data_ptr<float>() >= base &&
                      g.data_ptr<float>() < base + grads_.numel(),
                  "fused step: the gradient of ", name, " is not in the optimizer's buffer");
      ++found;
      return std::make_pair(it->second.detach(), int64_t(g.data_ptr<float>() - base));
    };
    Layer l;
    std::tie(l.w, l.w_offset) = find(prefix + ".weight");
    std::tie(l.b, l.b_offset) = find(prefix + ".bias");
    return l;
  };
  for (size_t i = 0; i < cfg.hidden.size(); ++i) {
    enc_.push_back(layer(weights::encoder_layer(i)));
    dec_.push_back(layer(weights::decoder_layer(i)));
  }
  dec_.push_back(layer(weights::decoder_out()));
  mu_head_ = layer(weights::encoder_mu_head());
  logvar_head_ = layer(weights::encoder_logvar_head());
  // Every gradient must be written by the step (the buffer is not zeroed).
  if (found != params.size()) {
    throw ConfigError(
        fmt::format("fused training step: the model has {} parameters beyond the MLP's {}",
                    params.size() - found, found));
  }
  sumsq_.assign(static_cast<size_t>(threads_) * 8, 0.0);
  int64_t offset = 0;
  for (const auto& spec : cfg.conditions) {
    cond_offset_.push_back(offset);
    offset += static_cast<int64_t>(spec.labels.size());
  }
}

void FusedMLPStep::ensure_capacity(int64_t rows) {
  if (rows <= capacity_) return;
  capacity_ = rows;
  auto mat = [&](int64_t width) { return torch::empty({rows, width}, torch::kFloat32); };
  in_enc_ = mat(features_ + cond_);
  enc_act_.clear();
  g_enc_.clear();
  dec_act_.clear();
  g_dec_.clear();
  for (const auto& l : enc_) {
    enc_act_.push_back(mat(l.out()));
    g_enc_.push_back(mat(l.out()));
  }
  for (size_t i = 0; i + 1 < dec_.size(); ++i) {
    dec_act_.push_back(mat(dec_[i].out()));
    g_dec_.push_back(mat(dec_[i].out()));
  }
  mu_ = mat(latent_);
  lv_raw_ = mat(latent_);
  lv_ = mat(latent_);
  sd_ = mat(latent_);
  g_z_ = mat(latent_);
  g_mu_ = mat(latent_);
  g_lv_ = mat(latent_);
  in_dec_ = mat(latent_ + cond_);
  logits_ = mat(features_);
  g_logits_ = mat(features_);
  recon_part_ = torch::zeros({threads_, rows}, torch::kFloat32);
  kl_ = torch::empty({rows}, torch::kFloat32);
}

template <class F>
void FusedMLPStep::phase(const F& f) {
  at::parallel_for(0, threads_, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) f(static_cast<int>(t));
  });
}

std::pair<int64_t, int64_t> FusedMLPStep::share(int64_t n, int t) const {
  int64_t chunk = (n + threads_ - 1) / threads_;
  chunk = (chunk + 7) / 8 * 8;  // whole 32-byte vectors (784 units split 392 + 392)
  const int64_t begin = std::min(n, t * chunk);
  return {begin, std::min(n, begin + chunk)};
}

int FusedMLPStep::head_owner(const Layer& head) const {
  return &head == &logvar_head_ ? std::min(1, threads_ - 1) : 0;
}

void FusedMLPStep::update_rows(const Layer& l, int64_t u0, int64_t u1,
                               const kernels::AdamScalars* s) {
  if (s == nullptr || u0 == u1) return;
  opt_->update(l.w_offset + u0 * l.in(), l.w_offset + u1 * l.in(), *s);
  opt_->update(l.b_offset + u0, l.b_offset + u1, *s);
}

void FusedMLPStep::update_heads(int t, const kernels::AdamScalars* s) {
  for (const Layer* head : {&mu_head_, &logvar_head_})
    if (t == head_owner(*head)) update_rows(*head, 0, head->out(), s);
}

void FusedMLPStep::defer_step(double grad_scale) {
  TORCH_CHECK(!deferred_, "fused step: a deferred optimizer step is already pending");
  deferred_ = opt_->begin_step(grad_scale);
}

void FusedMLPStep::flush() {
  if (!deferred_) return;
  // Taken out first: were an update to throw, it could not be applied twice.
  const kernels::AdamScalars s = *std::exchange(deferred_, std::nullopt);
  phase([&](int t) {
    for (const auto* layers : {&enc_, &dec_})
      for (const Layer& l : *layers) {
        const auto [u0, u1] = share(l.out(), t);
        update_rows(l, u0, u1, &s);
      }
    update_heads(t, &s);
  });
}

void FusedMLPStep::layer_grads(const Layer& l, const torch::Tensor& g, const torch::Tensor& in,
                               int64_t u0, int64_t u1, int t) {
  const int64_t n = u1 - u0;
  auto gw = flat_view(grads_, l.w_offset + u0 * l.in(), {n, l.in()});
  matmul(gw, g, true, in, false);  // dW[u0:u1] = g^T in
  auto gb = flat_view(grads_, l.b_offset + u0, {n});
  kernels::column_sums(ptr(gb), ptr(g), g.size(0), n, g.stride(0));
  sumsq_[static_cast<size_t>(t) * 8] += kernels::sum_squares(gw.data_ptr<float>(), gw.numel()) +
                                        kernels::sum_squares(gb.data_ptr<float>(), n);
}

struct FusedMLPStep::Batch {
  int64_t B = 0;                               // rows
  double beta = 0;                             // the KL term's weight
  double s = 0;                                // 1 / B: d loss / d (an example's terms)
  const kernels::AdamScalars* step = nullptr;  // the deferred optimizer step, or null
  torch::Tensor eps;                           // (B, Z) float
  torch::Tensor in_enc, xs, in_dec, logits;    // [x, c], its x columns, [z, c], the logits
  torch::Tensor h_last, d_last;                // the heads' input, the output layer's input
  torch::Tensor mu, lv_raw, lv, sd, kl;        // the latent layer's values
  torch::Tensor g_logits, g_mu, g_lv;          // gradients
  torch::Tensor rows(const torch::Tensor& m) const { return m.narrow(0, 0, B); }
};

torch::Tensor FusedMLPStep::enc_in(const Batch& b, size_t i) const {
  return i == 0 ? b.in_enc : b.rows(enc_act_[i - 1]);
}

torch::Tensor FusedMLPStep::dec_in(const Batch& b, size_t i) const {
  return i == 0 ? b.in_dec : b.rows(dec_act_[i - 1]);
}

void FusedMLPStep::input_forward(const Batch& b, const torch::Tensor& data, const torch::Tensor& y,
                                 const torch::Tensor& idx) {
  const int64_t D = features_, C = cond_;
  const float* src = data.data_ptr<float>();
  const int64_t* ids = idx.data_ptr<int64_t>();
  const int64_t* labels = y.data_ptr<int64_t>();
  const int64_t K = y.size(1);
  float* dst = b.in_enc.data_ptr<float>();
  const int64_t width = D + C;
  phase([&](int t) {
    const auto [r0, r1] = share(b.B, t);
    for (int64_t r = r0; r < r1; ++r) {
      float* row = dst + r * width;
      std::memcpy(row, src + ids[r] * D, sizeof(float) * static_cast<size_t>(D));
      std::fill(row + D, row + width, 0.0f);
      for (int64_t k = 0; k < K; ++k) row[D + cond_offset_[k] + labels[ids[r] * K + k]] = 1.0f;
    }
  });
}

void FusedMLPStep::encoder_forward(const Batch& b, size_t i) {
  hidden_forward(b, enc_[i], enc_in(b, i), b.rows(enc_act_[i]));
}

void FusedMLPStep::decoder_forward(const Batch& b, size_t i) {
  hidden_forward(b, dec_[i], dec_in(b, i), b.rows(dec_act_[i]));
}

// Units [u0, u1) of the layer per thread. The heads' deferred step is applied
// in the last encoder layer's phase.
void FusedMLPStep::hidden_forward(const Batch& b, const Layer& l, const torch::Tensor& in,
                                  const torch::Tensor& out) {
  phase([&](int t) {
    if (&l == &enc_.back()) update_heads(t, b.step);
    const auto [u0, u1] = share(l.out(), t);
    if (u0 == u1) return;
    update_rows(l, u0, u1, b.step);
    auto o = cols(out, u0, u1);
    affine(o, in, l.w.narrow(0, u0, u1 - u0), l.b.narrow(0, u0, u1 - u0));
    kernels::relu_rows(ptr(o), b.B, u1 - u0, o.stride(0));
  });
}

// Rows [r0, r1) per thread: lv = clamp(lv_raw), sd = exp(lv / 2),
// z = mu + sd * eps, and KL = 0.5 * sum(mu^2 + sd^2 - lv - 1).
void FusedMLPStep::latent_forward(const Batch& b) {
  const int64_t D = features_, C = cond_, Z = latent_;
  const float lv_min = static_cast<float>(logvar_min_), lv_max = static_cast<float>(logvar_max_);
  phase([&](int t) {
    const auto [r0, r1] = share(b.B, t);
    if (r0 == r1) return;
    const auto h = b.h_last.narrow(0, r0, r1 - r0);
    affine(b.mu.narrow(0, r0, r1 - r0), h, mu_head_.w, mu_head_.b);
    affine(b.lv_raw.narrow(0, r0, r1 - r0), h, logvar_head_.w, logvar_head_.b);
    const float* e = b.eps.data_ptr<float>();
    for (int64_t r = r0; r < r1; ++r) {
      const float* m = ptr(b.mu) + r * Z;
      const float* lr = ptr(b.lv_raw) + r * Z;
      float* l = ptr(b.lv) + r * Z;
      float* sdr = ptr(b.sd) + r * Z;
      float* z = ptr(b.in_dec) + r * (Z + C);
      float k = 0;
      for (int64_t d = 0; d < Z; ++d) {
        l[d] = lr[d] < lv_min ? lv_min : (lr[d] > lv_max ? lv_max : lr[d]);  // NaN stays NaN
        sdr[d] = std::exp(l[d] * 0.5f);
        z[d] = m[d] + sdr[d] * e[r * Z + d];
        k += m[d] * m[d] + sdr[d] * sdr[d] - l[d] - 1.0f;
      }
      std::memcpy(z + Z, ptr(b.in_enc) + r * (D + C) + D, sizeof(float) * static_cast<size_t>(C));
      ptr(b.kl)[r] = 0.5f * k;
    }
  });
}

// Units [u0, u1) per thread: the loss is BCE with logits = softplus(l) - x l,
// summed per example over the thread's units, and its gradient (sigmoid(l) - x) / B.
void FusedMLPStep::output_forward(const Batch& b) {
  const Layer& out = dec_.back();
  phase([&](int t) {
    const auto [u0, u1] = share(features_, t);
    auto part = recon_part_[t].narrow(0, 0, b.B);
    if (u0 == u1) {
      part.zero_();
      return;
    }
    update_rows(out, u0, u1, b.step);
    auto l = cols(b.logits, u0, u1), xt = cols(b.xs, u0, u1);
    affine(l, b.d_last, out.w.narrow(0, u0, u1 - u0), out.b.narrow(0, u0, u1 - u0));
    auto g = cols(b.g_logits, u0, u1);
    kernels::bernoulli_rows(ptr(g), g.stride(0), ptr(l), l.stride(0), ptr(xt), xt.stride(0), b.B,
                            u1 - u0, static_cast<float>(b.s), ptr(part));
    layer_grads(out, g, b.d_last, u0, u1, t);
  });
}

void FusedMLPStep::decoder_backward(const Batch& b, size_t i) {
  const auto g_out = i + 1 == dec_.size() ? b.g_logits : b.rows(g_dec_[i]);
  hidden_backward(b, dec_[i], g_out, b.rows(dec_act_[i - 1]), b.rows(g_dec_[i - 1]), dec_[i - 1],
                  dec_in(b, i - 1));
}

void FusedMLPStep::encoder_backward(const Batch& b, size_t i) {
  hidden_backward(b, enc_[i], b.rows(g_enc_[i]), b.rows(enc_act_[i - 1]), b.rows(g_enc_[i - 1]),
                  enc_[i - 1], enc_in(b, i - 1));
}

// Units [u0, u1) of the layer's input per thread.
void FusedMLPStep::hidden_backward(const Batch& b, const Layer& l, const torch::Tensor& g_out,
                                   const torch::Tensor& act, const torch::Tensor& g_act,
                                   const Layer& below, const torch::Tensor& below_in) {
  phase([&](int t) {
    const auto [u0, u1] = share(l.in(), t);
    if (u0 == u1) return;
    auto g = cols(g_act, u0, u1);
    matmul(g, g_out, false, cols(l.w, u0, u1), false);
    kernels::relu_backward_rows(ptr(g), g.stride(0), ptr(act) + u0, act.stride(0), b.B, u1 - u0);
    layer_grads(below, g, below_in, u0, u1, t);
  });
}

// Rows [r0, r1) per thread: dz from the decoder; the KL term adds beta s mu to
// mu's gradient and beta s (sd^2 - 1) / 2 to logvar's; clamp passes the
// gradient where logvar_min <= lv_raw <= logvar_max.
void FusedMLPStep::latent_backward(const Batch& b) {
  const int64_t Z = latent_;
  const float lv_min = static_cast<float>(logvar_min_), lv_max = static_cast<float>(logvar_max_);
  const float bs = static_cast<float>(b.beta * b.s);
  phase([&](int t) {
    const auto [r0, r1] = share(b.B, t);
    if (r0 == r1) return;
    const auto g_first = dec_.size() == 1 ? b.g_logits : b.rows(g_dec_[0]);
    auto gz = b.rows(g_z_).narrow(0, r0, r1 - r0);
    matmul(gz, g_first.narrow(0, r0, r1 - r0), false, cols(dec_[0].w, 0, Z), false);
    const float* e = b.eps.data_ptr<float>();
    for (int64_t i = r0 * Z; i < r1 * Z; ++i) {
      const float dz = ptr(g_z_)[i], m = ptr(b.mu)[i], sdv = ptr(b.sd)[i], lr = ptr(b.lv_raw)[i];
      ptr(b.g_mu)[i] = dz + bs * m;
      const float gl = dz * e[i] * sdv * 0.5f + 0.5f * bs * sdv * sdv - 0.5f * bs;
      ptr(b.g_lv)[i] = lr < lv_min || lr > lv_max ? 0.0f : gl;
    }
  });
}

// One head per thread while there are two or more; the encoder's input needs
// no gradient.
void FusedMLPStep::heads_backward(const Batch& b) {
  const int64_t Z = latent_;
  phase([&](int t) {
    if (t == head_owner(mu_head_)) layer_grads(mu_head_, b.g_mu, b.h_last, 0, Z, t);
    if (t == head_owner(logvar_head_)) layer_grads(logvar_head_, b.g_lv, b.h_last, 0, Z, t);
    const size_t last = enc_.size() - 1;
    const auto [u0, u1] = share(enc_[last].out(), t);
    if (u0 == u1) return;
    auto g = cols(b.rows(g_enc_[last]), u0, u1);
    matmul(g, b.g_mu, false, cols(mu_head_.w, u0, u1), false);
    matmul(g, b.g_lv, false, cols(logvar_head_.w, u0, u1), false, 1.0f);
    kernels::relu_backward_rows(ptr(g), g.stride(0), ptr(b.h_last) + u0, b.h_last.stride(0), b.B,
                                u1 - u0);
    layer_grads(enc_[last], g, enc_in(b, last), u0, u1, t);
  });
}

FusedMLPStep::Result FusedMLPStep::totals(const Batch& b) const {
  Result r;
  r.n = b.B;
  const float* parts = ptr(recon_part_);  // (threads, capacity)
  for (int t = 0; t < threads_; ++t)
    for (int64_t i = 0; i < b.B; ++i) r.recon_sum += parts[t * recon_part_.stride(0) + i];
  for (int64_t i = 0; i < b.B; ++i) r.kl_sum += ptr(b.kl)[i];
  r.loss = (r.recon_sum + b.beta * r.kl_sum) * b.s;
  double sumsq = 0;
  for (int t = 0; t < threads_; ++t) sumsq += sumsq_[static_cast<size_t>(t) * 8];
  r.grad_norm = std::sqrt(sumsq);
  return r;
}

void FusedMLPStep::check_batch(const torch::Tensor& data, const torch::Tensor& y,
                               const torch::Tensor& idx, const torch::Tensor& eps) const {
  const int64_t B = idx.size(0);
  TORCH_CHECK(data.scalar_type() == torch::kFloat32 && data.numel() == data.size(0) * features_ &&
                  y.scalar_type() == torch::kInt64 && y.dim() == 2 && y.size(0) == data.size(0) &&
                  y.size(1) == static_cast<int64_t>(cond_offset_.size()) &&
                  idx.scalar_type() == torch::kInt64 && idx.dim() == 1 && eps.size(0) == B &&
                  eps.size(1) == latent_ && B > 0,
              "fused step: batch shapes do not match the model");
}

FusedMLPStep::Batch FusedMLPStep::batch(int64_t B, double beta, const torch::Tensor& eps,
                                        const kernels::AdamScalars* step) const {
  Batch b;
  b.B = B;
  b.beta = beta;
  b.s = 1.0 / static_cast<double>(B);
  b.step = step;
  b.eps = eps;
  b.in_enc = b.rows(in_enc_);
  b.xs = cols(b.in_enc, 0, features_);
  b.in_dec = b.rows(in_dec_);
  b.logits = b.rows(logits_);
  b.h_last = enc_.empty() ? b.in_enc : b.rows(enc_act_.back());
  b.d_last = dec_in(b, dec_.size() - 1);
  b.mu = b.rows(mu_);
  b.lv_raw = b.rows(lv_raw_);
  b.lv = b.rows(lv_);
  b.sd = b.rows(sd_);
  b.kl = b.rows(kl_);
  b.g_logits = b.rows(g_logits_);
  b.g_mu = b.rows(g_mu_);
  b.g_lv = b.rows(g_lv_);
  return b;
}

FusedMLPStep::Result FusedMLPStep::run(const torch::Tensor& x_all, const torch::Tensor& y_all,
                                       const torch::Tensor& idx_in, const torch::Tensor& eps_in,
                                       double beta) {
  const auto data = x_all.contiguous();
  const auto y = y_all.contiguous();
  const auto idx = idx_in.contiguous();
  const auto eps = eps_in.to(torch::kFloat32).contiguous();
  check_batch(data, y, idx, eps);
  const int64_t B = idx.size(0);
  ensure_capacity(B);
  std::fill(sumsq_.begin(), sumsq_.end(), 0.0);
  // The deferred optimizer step, if any, applied by the forward phases below
  // (taken out first, so that it is never applied twice).
  const std::optional<kernels::AdamScalars> pending = std::exchange(deferred_, std::nullopt);
  const Batch b = batch(B, beta, eps, pending ? &*pending : nullptr);

  input_forward(b, data, y, idx);
  for (size_t i = 0; i < enc_.size(); ++i) encoder_forward(b, i);
  latent_forward(b);
  for (size_t i = 0; i + 1 < dec_.size(); ++i) decoder_forward(b, i);
  output_forward(b);

  for (size_t i = dec_.size() - 1; i >= 1; --i) decoder_backward(b, i);
  latent_backward(b);
  heads_backward(b);
  for (size_t i = enc_.size() - 1; i >= 1; --i) encoder_backward(b, i);
  return totals(b);
}

}  // namespace cvae::training
