#include "lite/generate_options.h"

#include <CLI/CLI.hpp>

namespace cvae::lite {

void add_decoding_options(CLI::App& sub, TextDecoding& d) {
  sub.add_option("--decode", d.method,
                 "Text: greedy, sample (softmax at --temperature, with --top-k/--top-p) or beam")
      ->capture_default_str()
      ->check(CLI::IsMember({"greedy", "sample", "beam"}));
  sub.add_option("--top-k", d.top_k,
                 "Text, --decode sample: keep the k most likely tokens (0 = all)")
      ->capture_default_str();
  sub.add_option("--top-p", d.top_p,
                 "Text, --decode sample: keep the most likely tokens holding this probability")
      ->capture_default_str();
  sub.add_option("--beam", d.beam, "Text, --decode beam: beam width")->capture_default_str();
  sub.add_option("--rerank", d.rerank,
                 "Candidates per sample (text and images); the one the model itself most "
                 "assigns to the requested label is kept (1 = off; -1 = 8 for text, 16 for images)")
      ->capture_default_str();
}

void add_generate_options(CLI::App& sub, GenerateRequest& r) {
  sub.add_option("--model", r.model, "Model file")->required();
  sub.add_option(
         "--label", r.labels,
         "Label name(s): '3', '3,5,7' or 'all' (several conditions: 'name=value+name=value')")
      ->capture_default_str();
  sub.add_option("-n,--count", r.n, "Samples per label")->capture_default_str();
  sub.add_option("--temperature", r.temperature,
                 "Images: scale of the sampler's standard deviation. Text: softmax temperature "
                 "of --decode sample (-1 = images 1.4, text 1)")
      ->capture_default_str();
  sub.add_option("--latent-temperature", r.latent_temperature,
                 "Scale of the sampler's standard deviation (default: images --temperature, "
                 "text 1)");
  sub.add_option("--sampler", r.sampler,
                 "Latent sampler: gmm (mixture fitted to the encoded training data per label), "
                 "prior (p(z|c)), or auto (gmm when the model has one)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "prior", "gmm"}));
  sub.add_option("--seed", r.seed, "Random seed (same seed, same output)")->capture_default_str();
  sub.add_flag("--sample-pixels", r.sample_pixels,
               "Draw pixels from p(x|z,c) instead of showing its mean");
  add_decoding_options(sub, r.decoding);
  sub.add_option("--format", r.format,
                 "png (grid: one row per label; a square grid for one label), idx, tsv (text: "
                 "label<TAB>text lines), a format of another modality, or auto (png for images, "
                 "tsv for text)")
      ->capture_default_str();
  sub.add_option("--out", r.out,
                 "Output file (png, tsv) or prefix (idx); default: images samples.png, text "
                 "the terminal");
  sub.add_option("--threads", r.threads, "Threads (0 = all cores)")->capture_default_str();
}

}  // namespace cvae::lite
