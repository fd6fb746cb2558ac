// train/kl_schedule.cpp: the KL weight for a constant beta, a linear warm-up and
// cyclical annealing, step by step, and one schedule at a time.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cvae/errors.h"
#include "train/kl_schedule.h"

namespace cvae {
namespace {

TEST(KlSchedule, ConstantWarmupAndCycles) {
  TrainConfig cfg;
  cfg.kl_warmup = 0;
  cfg.beta = 2.0;
  EXPECT_EQ(training::kl_weight(cfg, 0, 10), 2.0);
  cfg.kl_warmup = 2;  // 20 steps
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 5, 10), 0.5);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 40, 10), 2.0);
  cfg.kl_warmup = 0;
  cfg.epochs = 4;
  cfg.kl_cycles = 2;  // 40 steps: cycles of 20, rising over the first 10
  cfg.kl_cycle_ratio = 0.5;
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 0, 10), 0.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 5, 10), 1.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 10, 10), 2.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 19, 10), 2.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 20, 10), 0.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 25, 10), 1.0);
  cfg.kl_warmup = 1;
  EXPECT_THROW(cfg.validate(), ConfigError);  // one schedule at a time
}

}  // namespace
}  // namespace cvae
