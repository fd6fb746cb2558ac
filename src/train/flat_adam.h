// Adam over one flat buffer (Kingma & Ba 2015, as torch::optim::Adam without
// weight decay or amsgrad). The module's parameters are re-seated as views into
// one contiguous tensor, and their gradients as views into another, so a step
// is one fused pass over memory instead of about ten tensor operations per
// parameter, and the global gradient norm is one reduction.
#pragma once

#include <torch/torch.h>

#include <string>

#include "train/kernels.h"

namespace cvae::optim {

class FlatAdam {
 public:
  FlatAdam(torch::nn::Module& module, double lr, double beta1 = 0.9, double beta2 = 0.999,
           double eps = 1e-8);

  void zero_grad() { grads_.zero_(); }
  // L2 norm of all gradients together.
  double grad_norm() const { return grads_.norm().item<double>(); }
  // One Adam step on grad * grad_scale (grad_scale < 1 clips).
  void step(double grad_scale = 1.0);
  // step() in two parts, for callers that apply a step piecewise (the fused
  // training step, train/fused_mlp.h): begin_step() counts the step and returns
  // its scalars; update() applies them to the elements [begin, end) of the flat
  // buffers. Every element must be updated exactly once per step.
  kernels::AdamScalars begin_step(double grad_scale);
  void update(int64_t begin, int64_t end, const kernels::AdamScalars& s);

  // The flat gradient buffer: every parameter's gradient is a view into it.
  const torch::Tensor& grads() const { return grads_; }
  int64_t steps() const { return step_; }
  int64_t numel() const { return params_.numel(); }

  // The moments and step count, as a torch archive.
  std::string state_bytes() const;
  void load_state_bytes(const std::string& bytes, const std::string& what);

 private:
  torch::Tensor params_, grads_, exp_avg_, exp_avg_sq_;  // (P,) float32 each
  double lr_, beta1_, beta2_, eps_;
  int64_t step_ = 0;
};

}  // namespace cvae::optim
