// The `vkvision` subcommands. Each add_* registers its options and callback on the app; errors are
// thrown and turned into one line and an exit code by main().
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "vkvision/vkvision.h"

namespace vkvision::cli {

// Options every command that runs a model shares.
struct ModelSelection {
  std::string weights;  // checkpoint path; empty = the bundled default model (or --model's preset)
  std::string preset;   // --model
  int device = -1;      // --device
  KernelFamily kernels = KernelFamily::Auto;  // --kernels
  Precision precision = Precision::Fp32;      // --precision
};

void add_model_options(CLI::App& command, ModelSelection& selection, bool allow_default_model);
// Loads the selected model: the file, the preset with random weights, or the bundled default.
Model load_model(const ModelSelection& selection, bool allow_default_model, bool optimize = true);
std::shared_ptr<Runtime> open_runtime(const ModelSelection& selection);
SessionOptions session_options(const ModelSelection& selection, uint32_t batch, uint32_t input_size);
// Where the bundled Fashion-MNIST ConvNeXt may be, first found wins: $VKVISION_DEFAULT_MODEL alone,
// else share/vkvision/models beside an installed executable, then the copy in the source tree.
std::vector<std::string> default_model_paths();

void add_devices(CLI::App& app);
void add_models(CLI::App& app);
void add_classify(CLI::App& app);
void add_run(CLI::App& app);
void add_eval(CLI::App& app);
void add_bench(CLI::App& app);
void add_inspect(CLI::App& app);
void add_selftest(CLI::App& app);

}  // namespace vkvision::cli
