// A program outside the cvae tree, built against an installed cvae
// (tests/consumer/run.sh): it includes only the public, torch-free headers,
// trains a tiny model on toy IDX data it writes, describes the model and
// generates from it. Usage: cvae_consumer <empty work directory>
#include <cvae/api.h>
#include <cvae/errors.h>
#include <cvae/version.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

// An IDX file of unsigned bytes (type 0x08) with the given dimensions.
void write_idx(const std::string& path, const std::vector<uint32_t>& dims,
               const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary);
  const unsigned char magic[4] = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  f.write(reinterpret_cast<const char*>(magic), 4);
  for (uint32_t d : dims) {
    const unsigned char be[4] = {static_cast<unsigned char>(d >> 24),
                                 static_cast<unsigned char>(d >> 16),
                                 static_cast<unsigned char>(d >> 8), static_cast<unsigned char>(d)};
    f.write(reinterpret_cast<const char*>(be), 4);
  }
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

// n 8x8 images of 2 classes: class k lights rows [4k, 4k + 4).
void write_toy(const std::string& dir, const std::string& split, uint32_t n) {
  std::vector<uint8_t> images(n * 64), labels(n);
  for (uint32_t i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>(i % 2);
    for (uint32_t p = 0; p < 64; ++p)
      images[i * 64 + p] = p / 8 / 4 == labels[i] ? static_cast<uint8_t>(200 + (i + p) % 50)
                                                  : static_cast<uint8_t>((i * 7 + p) % 30);
  }
  write_idx(dir + "/" + split + "-images-idx3-ubyte", {n, 8, 8}, images);
  write_idx(dir + "/" + split + "-labels-idx1-ubyte", {n}, labels);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cvae_consumer <work directory>\n");
    return 2;
  }
  const std::string dir = argv[1];
  if (std::strcmp(cvae::version(), CVAE_VERSION) != 0) {
    std::fprintf(stderr, "version mismatch: library %s, header %s\n", cvae::version(),
                 CVAE_VERSION);
    return 1;
  }
  std::printf("cvae %s\n", cvae::version());
  try {
    cvae::describe_model(dir + "/missing.cvae", false);
    std::fprintf(stderr, "describe_model of a missing file did not throw\n");
    return 1;
  } catch (const cvae::Error& e) {
    std::printf("missing model: %s\n", e.what());
  }

  write_toy(dir, "train", 64);
  write_toy(dir, "t10k", 16);
  cvae::TrainRequest req;
  req.data.path = dir;
  req.model.arch = "mlp";
  req.model.prior = "standard";
  req.model.hidden = {16};
  req.model.latent = 2;
  req.train.epochs = 1;
  req.train.batch_size = 16;
  req.train.kl_warmup = 0;
  req.train.gmm_components = 0;
  req.train.threads = 1;
  req.out = dir + "/toy.cvae";
  req.quiet = true;
  const cvae::TrainResult trained = cvae::train(req);
  if (trained.epochs.size() != 1) {
    std::fprintf(stderr, "expected 1 epoch, got %zu\n", trained.epochs.size());
    return 1;
  }
  std::printf("trained: loss %.3f\n", trained.epochs[0].train_loss);
  std::printf("%s\n", cvae::describe_model(req.out, false).c_str());

  cvae::GenerateRequest gen;
  gen.model = req.out;
  gen.n = 2;
  gen.out = dir + "/samples.png";
  gen.threads = 1;
  const cvae::GenerateResult samples = cvae::generate(gen);
  if (samples.count != 4 || samples.files.empty()) {
    std::fprintf(stderr, "expected 4 samples in a file, got %lld\n",
                 static_cast<long long>(samples.count));
    return 1;
  }
  std::printf("generated %lld samples into %s\n", static_cast<long long>(samples.count),
              samples.files[0].c_str());
  return 0;
}
