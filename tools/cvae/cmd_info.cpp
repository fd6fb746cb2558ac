#include <fmt/format.h>

#include "commands.h"
#include "cvae/api.h"

namespace cvae::cli {

void add_info(CLI::App& app) {
  auto* sub = app.add_subcommand("info", "Describe a model file: config, labels, training state");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("--model", *path, "Model file")->required();
  sub->add_flag("--json", *json, "Print JSON");
  sub->callback([path, json] { fmt::print("{}", describe_model(*path, *json)); });
}

}  // namespace cvae::cli
