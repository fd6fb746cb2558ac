// JSON form of the config structs, as stored in model files and printed by `cvae info`.
#pragma once

#include <nlohmann/json.hpp>

#include "cvae/config.h"

namespace cvae {

void to_json(nlohmann::json& j, const ConditionSpec& c);
void from_json(const nlohmann::json& j, ConditionSpec& c);
void to_json(nlohmann::json& j, const ModelConfig& c);
void from_json(const nlohmann::json& j, ModelConfig& c);
void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

}  // namespace cvae
