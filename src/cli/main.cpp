// vkvision command line: one line on stderr and a non-zero exit code for every failure
// (2: bad input or usage, 3: the device failed or cannot do it, 1: anything else).
#include <cstdio>
#include <iostream>
#include <string_view>

#include "cli/commands.h"
#include "cli/man_page.h"
#include "vkvision/version.h"

#ifndef VKVISION_GIT_COMMIT
#define VKVISION_GIT_COMMIT ""
#endif
#ifndef VKVISION_INSTALLED_MODEL
#define VKVISION_INSTALLED_MODEL ""
#endif

namespace {
// Every message is one line whatever a file put into it: the readers escape what they quote, and
// this keeps the promise for any path that does not.
std::string one_line(const char* message) {
  std::string line;
  for (const char* c = message; *c; ++c) {
    const auto byte = static_cast<unsigned char>(*c);
    if (byte >= 0x20 && byte != 0x7f)
      line += *c;
    else
      line += "\\x" + std::string{"0123456789abcdef"[byte >> 4], "0123456789abcdef"[byte & 15]};
  }
  return line;
}
// "vkvision 0.1.0", with the commit when built from a git checkout: "vkvision 0.1.0 (git 55847aa)".
std::string version_line() {
  std::string line = std::string("vkvision ") + vkvision::version();
  if (std::string_view(VKVISION_GIT_COMMIT).size()) line += " (git " VKVISION_GIT_COMMIT ")";
  return line;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vkvision: image classification on any Vulkan device"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_line());
  vkvision::cli::add_devices(app);
  vkvision::cli::add_models(app);
  vkvision::cli::add_classify(app);
  vkvision::cli::add_run(app);
  vkvision::cli::add_eval(app);
  vkvision::cli::add_bench(app);
  vkvision::cli::add_inspect(app);
  vkvision::cli::add_selftest(app);
  // Set after the subcommands: CLI11 copies a parent's footer into each subcommand added later.
  app.footer(
      "Runs image classifiers (ConvNeXt and the other families `vkvision models` lists) on a Vulkan\n"
      "device through compute shaders. `vkvision SUBCOMMAND --help` describes each subcommand.\n"
      "\n"
      "Exit status: 0 success; 2 bad input or usage; 3 the device failed or cannot run the model;\n"
      "1 a selftest check failed, or any other error. Every failure prints one line on stderr.\n"
      "\n"
      "Environment:\n"
      "  VKVISION_DEVICE          device index when --device is not given (default 0)\n"
      "  VKVISION_VALIDATION      Vulkan validation: 1 (core checks), sync, gpu, comma-separated;\n"
      "                           empty or 0 is off\n"
      "  VKVISION_FORCE_STAGING   non-empty, not 0: fill device memory through staging buffers\n"
      "  VKVISION_CACHE_DIR       pipeline cache and kernel decisions (default\n"
      "                           $XDG_CACHE_HOME/vkvision, else ~/.cache/vkvision)\n"
      "  VKVISION_DEFAULT_MODEL   the bundled default model's path, looked up alone when set\n"
      "  VKVISION_DEVICE_PROFILE  tests only: the device-profile layer's simulated device class\n"
      "\n"
      "Default model (classify, eval, inspect without --weights): $VKVISION_DEFAULT_MODEL alone if set,\n"
      "else " VKVISION_INSTALLED_MODEL
      "\nfrom the executable's folder, then the source tree's models/convnext_fmnist.safetensors.");
  // Hidden: the build writes the man page with it (src/cli/CMakeLists.txt).
  if (argc == 2 && std::string_view(argv[1]) == "--man") {
    std::cout << vkvision::cli::man_page(app, version_line());
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    std::cerr << "vkvision: " << error.what() << " (see --help)\n";
    return 2;
  } catch (const vkvision::InputError& error) {
    std::cerr << "vkvision: error: " << one_line(error.what()) << "\n";
    return 2;
  } catch (const vkvision::DeviceError& error) {
    std::cerr << "vkvision: device error: " << one_line(error.what()) << "\n";
    return 3;
  } catch (const std::exception& error) {
    std::cerr << "vkvision: error: " << one_line(error.what()) << "\n";
    return 1;
  }
  return 0;
}
