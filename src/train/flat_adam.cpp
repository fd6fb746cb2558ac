#include "train/flat_adam.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "train/kernels.h"

namespace cvae::optim {

FlatAdam::FlatAdam(torch::nn::Module& module, double lr, double beta1, double beta2, double eps)
    : lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {
  auto params = module.parameters();
  int64_t total = 0;
  for (const auto& p : params) {
    TORCH_CHECK(p.scalar_type() == torch::kFloat32 && p.device().is_cpu(),
                "FlatAdam needs float32 CPU parameters");
    total += p.numel();
  }
  params_ = torch::empty({total}, torch::kFloat32);
  grads_ = torch::zeros({total}, torch::kFloat32);
  exp_avg_ = torch::zeros({total}, torch::kFloat32);
  exp_avg_sq_ = torch::zeros({total}, torch::kFloat32);
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& p : params) {
    const int64_t n = p.numel();
    auto view = params_.slice(0, offset, offset + n).view(p.sizes());
    view.copy_(p);
    p.set_data(view);  // the module's parameter now lives in params_
    // Autograd accumulates into an existing gradient in place, so backward
    // writes straight into grads_.
    p.mutable_grad() = grads_.slice(0, offset, offset + n).view(p.sizes());
    offset += n;
  }
}

kernels::AdamScalars FlatAdam::begin_step(double grad_scale) {
  ++step_;
  kernels::AdamScalars s;
  s.beta1 = static_cast<float>(beta1_);
  s.beta2 = static_cast<float>(beta2_);
  s.one_minus_beta1 = static_cast<float>(1 - beta1_);
  s.one_minus_beta2 = static_cast<float>(1 - beta2_);
  const double bias_correction1 = 1 - std::pow(beta1_, static_cast<double>(step_));
  const double bias_correction2 = 1 - std::pow(beta2_, static_cast<double>(step_));
  s.sqrt_bias_correction2 = static_cast<float>(std::sqrt(bias_correction2));
  s.neg_step_size = static_cast<float>(-lr_ / bias_correction1);
  s.eps = static_cast<float>(eps_);
  s.grad_scale = static_cast<float>(grad_scale);
  return s;
}

void FlatAdam::update(int64_t begin, int64_t end, const kernels::AdamScalars& s) {
  TORCH_CHECK(0 <= begin && begin <= end && end <= params_.numel(), "FlatAdam: elements ", begin,
              "..", end, " are outside the ", params_.numel(), " parameters");
  // The same arithmetic, in the same order, as torch::optim::Adam in float32
  // (train/kernels.h), vectorised for this CPU.
  kernels::adam_update(params_.data_ptr<float>() + begin, grads_.data_ptr<float>() + begin,
                       exp_avg_.data_ptr<float>() + begin, exp_avg_sq_.data_ptr<float>() + begin,
                       end - begin, s);
}

void FlatAdam::step(double grad_scale) {
  const kernels::AdamScalars s = begin_step(grad_scale);
  at::parallel_for(0, params_.numel(), 1 << 15,
                   [&](int64_t begin, int64_t end) { update(begin, end, s); });
}

std::string FlatAdam::state_bytes() const {
  torch::serialize::OutputArchive archive;
  archive.write("exp_avg", exp_avg_);
  archive.write("exp_avg_sq", exp_avg_sq_);
  archive.write("step", torch::tensor({step_}, torch::kInt64));
  std::ostringstream os(std::ios::binary);
  archive.save_to(os);
  return os.str();
}

void FlatAdam::load_state_bytes(const std::string& bytes, const std::string& what) {
  torch::Tensor m, v, step;
  try {
    torch::serialize::InputArchive archive;
    std::istringstream is(bytes, std::ios::binary);
    archive.load_from(is);
    archive.read("exp_avg", m);
    archive.read("exp_avg_sq", v);
    archive.read("step", step);
  } catch (const c10::Error& e) {
    throw CheckpointError(
        fmt::format("{}: optimizer state is unreadable ({})", what, e.what_without_backtrace()));
  }
  if (m.numel() != exp_avg_.numel() || v.numel() != exp_avg_sq_.numel() || step.numel() != 1) {
    throw CheckpointError(fmt::format("{}: optimizer state has {} values (expected {})", what,
                                      m.numel(), exp_avg_.numel()));
  }
  torch::NoGradGuard no_grad;
  exp_avg_.copy_(m.view({-1}));
  exp_avg_sq_.copy_(v.view({-1}));
  step_ = step.item<int64_t>();
}

}  // namespace cvae::optim
