// A density fitted to the encoded training set in latent space, one Gaussian
// mixture per condition row, to sample z for a condition from where the
// encoder actually puts that condition's data (the aggregate posterior)
// rather than from the prior.
//
// Shapes: N points, Z latent, K conditions, R fitted rows, M components.
#pragma once

#include <torch/torch.h>

#include <string>

namespace cvae::models {

struct LatentMixture {
  torch::Tensor rows;     // (R, K) int64 label-index rows
  torch::Tensor weights;  // (R, M) float64 mixture weights (0 for unused components)
  torch::Tensor means;    // (R, M, Z) float64
  torch::Tensor chol;     // (R, M, Z, Z) float64 lower Cholesky factors of the covariances

  bool defined() const { return rows.defined() && rows.size(0) > 0; }
  int64_t components() const { return weights.defined() ? weights.size(1) : 0; }
};

// Fits an M-component, full-covariance Gaussian mixture by EM to the points of
// each distinct row of y (rows with fewer than 2 points are skipped; a row
// with fewer than M points gets that many components). Covariances get 1e-4 I
// added so they stay positive definite. z (N, Z), y (N, K) int64.
LatentMixture fit_latent_mixture(const torch::Tensor& z, const torch::Tensor& y, int64_t components,
                                 uint64_t seed, int64_t max_iters = 200);

// Mean log-likelihood per point of z under row r's mixture (for tests and reports).
double mixture_mean_log_likelihood(const LatentMixture& mix, int64_t r, const torch::Tensor& z);

// Index of each requested row in mix.rows: rows (Q, K) -> (Q,) int64; throws
// ConfigError naming a row that was not fitted (label_names: one per row).
torch::Tensor mixture_row_index(const LatentMixture& mix, const torch::Tensor& rows,
                                const std::vector<std::string>& label_names);

// n draws per requested row, component covariances scaled by temperature^2:
// rows (Q, K) -> (Q*n, Z) float32, row-major like models::sample_latent.
torch::Tensor sample_latent_mixture(const LatentMixture& mix, const torch::Tensor& row_index,
                                    int64_t n, double temperature, at::Generator& gen);

// The moment-matched Gaussian of each row's mixture: mean = sum_m w_m mu_m,
// cov = sum_m w_m (S_m + mu_m mu_m^T) - mean mean^T. -> means (R, Z), chol (R, Z, Z), float64.
std::pair<torch::Tensor, torch::Tensor> mixture_moments(const LatentMixture& mix);

// Carries z from one row's region to another's through their moment-matched
// Gaussians: z' = m_t + L_t L_s^-1 (z - m_s). z (N, Z); src, dst (N,) row
// indices -> (N, Z) float32.
torch::Tensor move_between_rows(const LatentMixture& mix, const torch::Tensor& z,
                                const torch::Tensor& src, const torch::Tensor& dst);

std::string mixture_to_bytes(const LatentMixture& mix);
// what names the file in messages; throws CheckpointError on malformed bytes.
LatentMixture mixture_from_bytes(const std::string& bytes, const std::string& what);

}  // namespace cvae::models
