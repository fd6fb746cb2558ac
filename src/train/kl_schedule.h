// The weight of the KL term at a given optimisation step. No torch here.
#pragma once

#include <cstdint>

#include "cvae/config.h"

namespace cvae::training {

// beta_t for step t (0-based, the step about to be taken):
//  - cyclical (kl_cycles > 0; Fu et al. 2019): the run's epochs * steps_per_epoch
//    steps form kl_cycles equal cycles; in each, beta rises linearly from 0 to
//    beta over the first kl_cycle_ratio of the cycle, then holds;
//  - linear warm-up (kl_warmup > 0): beta * min(1, t / (kl_warmup * steps_per_epoch));
//  - otherwise beta.
double kl_weight(const TrainConfig& cfg, int64_t step, int64_t steps_per_epoch);

}  // namespace cvae::training
