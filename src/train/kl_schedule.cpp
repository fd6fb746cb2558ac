#include "train/kl_schedule.h"

#include <algorithm>
#include <cmath>

namespace cvae::training {

double kl_weight(const TrainConfig& cfg, int64_t step, int64_t steps_per_epoch) {
  const double t = static_cast<double>(step);
  if (cfg.kl_cycles > 0) {
    const double cycle =
        static_cast<double>(cfg.epochs * steps_per_epoch) / static_cast<double>(cfg.kl_cycles);
    const double tau = std::fmod(t, cycle) / cycle;
    return cfg.beta * std::min(1.0, tau / cfg.kl_cycle_ratio);
  }
  const double warmup = cfg.kl_warmup * static_cast<double>(steps_per_epoch);
  return warmup > 0 ? cfg.beta * std::min(1.0, t / warmup) : cfg.beta;
}

}  // namespace cvae::training
