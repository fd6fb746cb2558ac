#include "core/config_json.h"

namespace cvae {

// Missing keys keep their defaults, so older files load with newer fields.
template <typename T>
static void get_opt(const nlohmann::json& j, const char* key, T& v) {
  if (j.contains(key)) j.at(key).get_to(v);
}

void to_json(nlohmann::json& j, const ConditionSpec& c) {
  j = {{"name", c.name}, {"kind", c.kind}, {"labels", c.labels}};
}

void from_json(const nlohmann::json& j, ConditionSpec& c) {
  get_opt(j, "name", c.name);
  get_opt(j, "kind", c.kind);
  get_opt(j, "labels", c.labels);
}

void to_json(nlohmann::json& j, const ModelConfig& c) {
  j = {{"modality", c.modality},
       {"arch", c.arch},
       {"likelihood", c.likelihood},
       {"prior", c.prior},
       {"channels", c.channels},
       {"classifier", c.classifier},
       {"input_shape", c.input_shape},
       {"conditions", c.conditions},
       {"hidden", c.hidden},
       {"latent", c.latent},
       {"vocabulary", c.vocabulary},
       {"embedding", c.embedding},
       {"word_dropout", c.word_dropout},
       {"logvar_min", c.logvar_min},
       {"logvar_max", c.logvar_max}};
}

void from_json(const nlohmann::json& j, ModelConfig& c) {
  get_opt(j, "modality", c.modality);  // absent in older files: inferred when used
  get_opt(j, "arch", c.arch);
  // Files written before "auto" existed name their likelihood; none is image Bernoulli.
  c.likelihood = "bernoulli";
  get_opt(j, "likelihood", c.likelihood);
  // A file without "prior" was written before learned priors existed: its prior is N(0, I).
  c.prior = "standard";
  get_opt(j, "prior", c.prior);
  get_opt(j, "channels", c.channels);
  get_opt(j, "classifier", c.classifier);
  get_opt(j, "input_shape", c.input_shape);
  get_opt(j, "conditions", c.conditions);
  get_opt(j, "hidden", c.hidden);
  get_opt(j, "latent", c.latent);
  get_opt(j, "vocabulary", c.vocabulary);
  get_opt(j, "embedding", c.embedding);
  get_opt(j, "word_dropout", c.word_dropout);
  get_opt(j, "logvar_min", c.logvar_min);
  get_opt(j, "logvar_max", c.logvar_max);
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"epochs", c.epochs},
       {"batch_size", c.batch_size},
       {"lr", c.lr},
       {"beta", c.beta},
       {"kl_warmup", c.kl_warmup},
       {"kl_cycles", c.kl_cycles},
       {"kl_cycle_ratio", c.kl_cycle_ratio},
       {"free_bits", c.free_bits},
       {"gmm_components", c.gmm_components},
       {"labelled", c.labelled},
       {"ssl_alpha", c.ssl_alpha},
       {"grad_clip", c.grad_clip},
       {"val_fraction", c.val_fraction},
       {"save_every", c.save_every},
       {"seed", c.seed},
       {"threads", c.threads}};
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
  get_opt(j, "epochs", c.epochs);
  get_opt(j, "batch_size", c.batch_size);
  get_opt(j, "lr", c.lr);
  get_opt(j, "beta", c.beta);
  get_opt(j, "kl_warmup", c.kl_warmup);
  get_opt(j, "kl_cycles", c.kl_cycles);
  get_opt(j, "kl_cycle_ratio", c.kl_cycle_ratio);
  get_opt(j, "free_bits", c.free_bits);
  get_opt(j, "gmm_components", c.gmm_components);
  get_opt(j, "labelled", c.labelled);
  get_opt(j, "ssl_alpha", c.ssl_alpha);
  get_opt(j, "grad_clip", c.grad_clip);
  get_opt(j, "val_fraction", c.val_fraction);
  get_opt(j, "save_every", c.save_every);
  get_opt(j, "seed", c.seed);
  get_opt(j, "threads", c.threads);
}

}  // namespace cvae
