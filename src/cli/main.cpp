// vkvision command line: one line on stderr and a non-zero exit code for every failure
// (2: bad input or usage, 3: the device failed or cannot do it, 1: anything else).
#include <cstdio>
#include <iostream>
#include <string_view>

#include "cli/commands.h"
#include "vkvision/version.h"

#ifndef VKVISION_GIT_COMMIT
#define VKVISION_GIT_COMMIT ""
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
