// vkvision.1: the man page, written from the same CLI11 description `--help` prints, so the two
// cannot drift (`vkvision --man`, run at build time by src/cli/CMakeLists.txt).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace vkvision::cli {

// roff (man(7) macros) for `app` and each of its subcommands; `footer` is the top-level help's
// closing text (exit status, environment, default model), set as DESCRIPTION's tail.
std::string man_page(CLI::App& app, const std::string& version);

}  // namespace vkvision::cli
