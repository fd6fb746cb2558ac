// Sub-commands of the cvae CLI. Each file adds one sub-command whose callback
// fills a request struct from the options and calls the library (cvae/api.h).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cvae/api.h"
#include "cvae/config.h"

namespace cvae::cli {

void add_train(CLI::App& app);
void add_generate(CLI::App& app);
void add_eval(CLI::App& app);
void add_transfer(CLI::App& app);
void add_interpolate(CLI::App& app);
void add_info(CLI::App& app);
void add_classifier(CLI::App& app);
void add_fit_sampler(CLI::App& app);
void add_recommend(CLI::App& app);

// --data and the image-folder options, shared by train, eval and transfer.
struct DataOptions {
  DataConfig cfg;
  std::string image_size;  // "HxW"
  bool no_genre_rows = false;
  void add(CLI::App& sub, bool required);
  DataConfig resolve() const;  // parses image_size, validates
};

// --decode, --top-k, --top-p and --beam of text models.
void add_decoding(CLI::App& sub, TextDecoding& d);

// {"auto"} followed by names (the choices of --modality and --arch).
std::vector<std::string> with_auto(std::vector<std::string> names);

// "512,256" -> {512, 256}; ConfigError naming the option on bad input.
std::vector<int64_t> parse_int_list(const std::string& option, const std::string& text);

}  // namespace cvae::cli
