// Turning latent codes into text: step-by-step decoding with a text model's
// recurrent decoder (modalities/text/rnn.h, RecurrentDecoder).
//
// Shapes: N texts, Z latent, C condition width, T positions, V vocabulary.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "core/sampling.h"
#include "cvae/api.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"

namespace cvae::modalities::text {

using core::DecodeOptions;

// Decodes one text per row of z with conditions c: z (N, Z), c (N, C) -> token
// ids (N, T) int64, T the model's length; each row is the words, <eos>, then
// <pad>. <pad>, <unk> and <bos> are never produced; a text that reaches T
// positions without <eos> is cut there. Beam search keeps `beam` hypotheses per
// row and returns the one with the highest log-probability per token
// (the sum over its tokens, <eos> included, divided by their number).
// Random draws (method sample) come from gen.
torch::Tensor decode_text(models::CVAEImpl& model, const torch::Tensor& z, const torch::Tensor& c,
                          const DecodeOptions& opt, at::Generator& gen);

// Decodes one text per row of target_rows (N, K) from z = draw_z() (N, Z). With
// opt.rerank = R > 1, draw_z and the decoding run R times and each row keeps the
// candidate with the highest log p(row | x) under the model (models::
// label_log_posterior): the model's own reading of which label a text carries,
// no outside classifier. -> token ids (N, T)
torch::Tensor decode_text_reranked(models::CVAEImpl& model,
                                   const std::function<torch::Tensor()>& draw_z,
                                   const torch::Tensor& target_rows, const DecodeOptions& opt,
                                   at::Generator& gen);

// n texts per label row: rows (M, K) -> token ids (M*n, T), label-major. Each
// text decodes z from the sampler (mixture when defined, else the prior, at
// latent_temperature), reranked as decode_text_reranked (a new z per candidate).
torch::Tensor sample_text(models::CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                          double latent_temperature, const models::LatentMixture& mixture,
                          const DecodeOptions& opt, at::Generator& gen);

}  // namespace cvae::modalities::text
