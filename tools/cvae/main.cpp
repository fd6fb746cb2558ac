// cvae: train conditional VAEs and generate content for a chosen condition.
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "commands.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "cvae/version.h"

int main(int argc, char** argv) {
  CLI::App app{"cvae: train Conditional VAEs and generate targeted content (version " CVAE_VERSION
               ")"};
  app.set_version_flag("--version", std::string(CVAE_VERSION));
  app.require_subcommand(1);
  app.get_formatter()->column_width(34);
  cvae::cli::add_train(app);
  cvae::cli::add_generate(app);
  cvae::cli::add_eval(app);
  cvae::cli::add_transfer(app);
  cvae::cli::add_interpolate(app);
  cvae::cli::add_info(app);
  cvae::cli::add_classifier(app);
  cvae::cli::add_fit_sampler(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const cvae::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "error: out of memory (try a smaller --batch-size or fewer samples)\n");
    return 1;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find("can't allocate memory") != std::string::npos ||
        what.find("not enough memory") != std::string::npos) {
      fmt::print(stderr,
                 "error: out of memory (try a smaller --batch-size, model or sample count)\n");
      return 1;
    }
    fmt::print(stderr, "error: internal error: {}\n", what.substr(0, what.find('\n')));
    return 3;
  }
  return 0;
}
