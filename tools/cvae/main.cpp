// cvae: train conditional VAEs and generate content for a chosen condition.
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "commands.h"
#include "core/report_error.h"
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
  cvae::cli::add_recommend(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (...) {
    return cvae::core::report_exception();
  }
  return 0;
}
