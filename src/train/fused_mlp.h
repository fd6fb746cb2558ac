// A hand-written training step for the MLP CVAE with a standard normal prior
// and a Bernoulli likelihood: forward, loss and backward without autograd,
// into preallocated buffers, each layer's work split across the threads.
//
// Every layer is one phase: thread t of T computes its own block of the
// layer's output units for the whole batch (forward), and its block of the
// gradient w.r.t. the layer's input units together with the weight and bias
// gradients of the layer below for those units (backward), each with
// single-threaded matrix products (inside a parallel region neither OpenBLAS
// nor ATen split further). So each thread reads and writes only its share of
// every weight and gradient matrix, no gradient buffer is reduced across
// threads, and the threads meet once per layer. Elementwise work runs in
// torch-free vectorised loops (train/kernels.h), and the matrix products call
// oneDNN's or the system's sgemm directly (gemm/gemm.h). Each thread also sums
// the squares of the gradients it wrote, so the global gradient norm needs no
// extra pass. Measured: docs/performance.md.
//
// The maths is elbo_loss with free_bits = 0 (models/cvae_model.h):
//   loss = mean_b [ sum_d BCE(logits_bd, x_bd) + beta * KL_b ]
// with the encoder's log-variance clamped to [logvar_min, logvar_max] and
// z = mu + exp(logvar / 2) * eps; tests/train/test_fused_mlp.cpp checks the
// loss and every gradient against autograd.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cvae/config.h"
#include "train/kernels.h"

namespace cvae::models {
class CVAEImpl;
}
namespace cvae::optim {
class FlatAdam;
}

namespace cvae::training {

// Why the fused step cannot train this model and configuration, or "" when it can.
std::string fused_mlp_unsupported(const ModelConfig& model, const TrainConfig& train);

class FusedMLPStep {
 public:
  // model: an MLP CVAE whose parameters live in opt's flat buffer. threads: how
  // many shares each layer's work is split into (at most at::get_num_threads()
  // run at once).
  FusedMLPStep(models::CVAEImpl& model, optim::FlatAdam& opt, int threads);

  struct Result {
    double loss = 0;       // the objective, nats per example
    double recon_sum = 0;  // sum over the batch of -log p(x | z, c)
    double kl_sum = 0;     // sum over the batch of KL(q(z | x, c) || N(0, I))
    int64_t n = 0;         // examples
    double grad_norm = 0;  // L2 norm of the whole gradient
  };

  // The batch is rows idx (B,) int64 of x (N, S...) float (D features each) with
  // label indices y (N, K) int64, one column per condition (encoded one-hot as
  // data::encode_conditions does); eps (B, Z) is the reparameterisation noise.
  // Computes the loss and writes its gradient into the optimizer's gradient
  // buffer (replacing it). Indices and labels must be in range (the trainer's are).
  Result run(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& idx,
             const torch::Tensor& eps, double beta);

  // The optimizer's step on the gradients run() wrote, as opt.step(grad_scale)
  // but deferred: the next run() applies it layer by layer in its forward pass,
  // each thread updating the rows of the weights it is about to multiply by, so
  // they are still in its cache for the product. flush() applies a deferred
  // step at once; call it before anything else reads the parameters or the
  // optimizer's state (the trainer does, before saving and at the end of each
  // epoch). A run() that throws may leave the step applied to some layers only
  // (never twice): do not train on after such an error.
  void defer_step(double grad_scale);
  void flush();
  bool has_deferred_step() const { return deferred_.has_value(); }

 private:
  struct Layer {
    torch::Tensor w, b;                  // detached aliases of the parameters: (out, in), (out)
    int64_t w_offset = 0, b_offset = 0;  // in the flat gradient buffer
    int64_t in() const { return w.size(1); }
    int64_t out() const { return w.size(0); }
  };
  // One run()'s batch: its size, the step's buffers cut to its rows, and its
  // scalars (defined in fused_mlp.cpp).
  struct Batch;
  void ensure_capacity(int64_t rows);
  // Runs f(t) for t in [0, threads) in parallel; returns when all are done.
  template <class F>
  void phase(const F& f);
  // Thread t's share [begin, end) of n units (boundaries on multiples of 8 floats).
  std::pair<int64_t, int64_t> share(int64_t n, int t) const;
  // Applies the optimizer step s (if not null) to rows [u0, u1) of l.
  void update_rows(const Layer& l, int64_t u0, int64_t u1, const kernels::AdamScalars* s);
  // The same for the heads thread t owns.
  void update_heads(int t, const kernels::AdamScalars* s);
  // The thread that computes a latent head's gradients.
  int head_owner(const Layer& head) const;
  // The weight and bias gradients of layer l for its output units [u0, u1),
  // from g (rows, u1 - u0) (the gradient w.r.t. those outputs) and the layer's
  // input; adds their sum of squares to thread t's total.
  void layer_grads(const Layer& l, const torch::Tensor& g, const torch::Tensor& in, int64_t u0,
                   int64_t u1, int t);
  // run()'s checks of its arguments.
  void check_batch(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& idx,
                   const torch::Tensor& eps) const;
  // The step's buffers cut to the first B rows, and the batch's scalars.
  Batch batch(int64_t B, double beta, const torch::Tensor& eps,
              const kernels::AdamScalars* step) const;
  // The input of encoder layer i and of decoder layer i, cut to the batch's rows.
  torch::Tensor enc_in(const Batch& b, size_t i) const;
  torch::Tensor dec_in(const Batch& b, size_t i) const;

  // The step's phases, in run()'s order. Each is one phase (the threads meet
  // once at its end); the forward ones apply the batch's deferred optimizer
  // step, if any, to the rows they multiply by.
  // The batch's rows of x, with their conditions one-hot, into [x, c].
  void input_forward(const Batch& b, const torch::Tensor& x, const torch::Tensor& y,
                     const torch::Tensor& idx);
  // Hidden layer i of the encoder, of the decoder: out = relu(in W^T + b).
  void encoder_forward(const Batch& b, size_t i);
  void decoder_forward(const Batch& b, size_t i);
  void hidden_forward(const Batch& b, const Layer& l, const torch::Tensor& in,
                      const torch::Tensor& out);
  // The latent heads, the clamp of logvar, z = mu + exp(logvar / 2) eps and the KL term.
  void latent_forward(const Batch& b);
  // The output layer, the Bernoulli loss, its gradient w.r.t. the logits and
  // the output layer's weight gradients.
  void output_forward(const Batch& b);
  // Through decoder layer i (i >= 1; the output layer is the last) to its
  // input, then the weight gradients of decoder layer i - 1.
  void decoder_backward(const Batch& b, size_t i);
  // The same through encoder layer i (i >= 1).
  void encoder_backward(const Batch& b, size_t i);
  // Through hidden layer l (g_out: the gradient w.r.t. its output) to its input
  // act (post-ReLU, gradient into g_act), then the gradients of the layer below,
  // whose input is below_in.
  void hidden_backward(const Batch& b, const Layer& l, const torch::Tensor& g_out,
                       const torch::Tensor& act, const torch::Tensor& g_act, const Layer& below,
                       const torch::Tensor& below_in);
  // The gradients w.r.t. mu and logvar: from the decoder through z, and the KL term's.
  void latent_backward(const Batch& b);
  // The heads' gradients, then through the heads to the encoder's last hidden
  // layer and that layer's gradients.
  void heads_backward(const Batch& b);
  // The batch's loss parts and the gradient norm, summed over the threads.
  Result totals(const Batch& b) const;

  std::vector<Layer> enc_, dec_;  // hidden layers; dec_ ends with the output layer
  Layer mu_head_, logvar_head_;
  int64_t features_ = 0, cond_ = 0, latent_ = 0;
  double logvar_min_ = 0, logvar_max_ = 0;
  int threads_ = 1;
  optim::FlatAdam* opt_ = nullptr;
  std::optional<kernels::AdamScalars> deferred_;
  int64_t capacity_ = 0;
  torch::Tensor grads_;  // the optimizer's flat gradient buffer
  // Activations and their gradients, (rows, width) each: [x, c], the encoder's
  // hidden layers (post-ReLU), mu, logvar before and after the clamp, its std,
  // [z, c], the decoder's hidden layers, and the logits.
  torch::Tensor in_enc_, mu_, lv_raw_, lv_, sd_, in_dec_, logits_;
  std::vector<torch::Tensor> enc_act_, dec_act_, g_enc_, g_dec_;
  torch::Tensor g_logits_, g_z_, g_mu_, g_lv_;
  torch::Tensor recon_part_;          // (threads, rows): each thread's share of -log p(x | z, c)
  torch::Tensor kl_;                  // (rows)
  std::vector<int64_t> cond_offset_;  // first one-hot column of each condition
  std::vector<double> sumsq_;         // per thread, 8 doubles apart (one cache line each)
};

}  // namespace cvae::training
