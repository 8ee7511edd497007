#include <cstdlib>
#include <filesystem>
#include <map>
#include <string_view>
#include <vector>

#include "cli/commands.h"

#ifndef VKVISION_SOURCE_MODEL
#define VKVISION_SOURCE_MODEL ""
#endif
#ifndef VKVISION_INSTALLED_MODEL
#define VKVISION_INSTALLED_MODEL ""
#endif

namespace vkvision::cli {

std::vector<std::string> default_model_paths() {
  if (const char* path = std::getenv("VKVISION_DEFAULT_MODEL"); path && path[0]) return {path};
  std::vector<std::string> paths;
  // An installed CLI finds the model under its own prefix, wherever that was moved to.
  std::error_code error;
  const auto executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error && std::string_view(VKVISION_INSTALLED_MODEL).size())
    paths.push_back((executable.parent_path() / VKVISION_INSTALLED_MODEL).lexically_normal().string());
  if (std::string_view(VKVISION_SOURCE_MODEL).size()) paths.push_back(VKVISION_SOURCE_MODEL);
  return paths;
}

void add_model_options(CLI::App& command, ModelSelection& selection, bool allow_default_model) {
  command.add_option("--weights", selection.weights, "checkpoint: .safetensors, or PyTorch .pth/.bin")
      ->check(CLI::ExistingFile);
  command.add_option("--model", selection.preset,
                     allow_default_model
                         ? "preset name (see `vkvision models`): checks the checkpoint against it"
                         : "preset name (see `vkvision models`): random weights without --weights");
  command.add_option("--device", selection.device, "Vulkan device index (default: $VKVISION_DEVICE or 0)");
  const std::map<std::string, KernelFamily> families = {{"auto", KernelFamily::Auto},
                                                        {"register", KernelFamily::RegisterBlocked},
                                                        {"tiled", KernelFamily::SharedTiled},
                                                        {"timed", KernelFamily::Timed}};
  command
      .add_option("--kernels", selection.kernels,
                  "GEMM kernel family: auto (from the device's properties, else a cached timed trial), "
                  "register, tiled, "
                  "timed (the cached trial on any device)")
      ->transform(CLI::CheckedTransformer(families, CLI::ignore_case));
  const std::map<std::string, Precision> precisions = {{"fp32", Precision::Fp32}, {"fp16", Precision::Fp16}};
  command
      .add_option("--precision", selection.precision,
                  "weight storage: fp32, or fp16 (weights rounded to half; activations and sums stay fp32)")
      ->transform(CLI::CheckedTransformer(precisions, CLI::ignore_case));
}

SessionOptions session_options(const ModelSelection& selection, uint32_t batch, uint32_t input_size) {
  return {.batch = batch,
          .input_size = input_size,
          .kernels = selection.kernels,
          .precision = selection.precision};
}

Model load_model(const ModelSelection& selection, bool allow_default_model, bool optimize) {
  if (!selection.weights.empty()) return Model::load(selection.weights, {selection.preset, optimize});
  if (!selection.preset.empty() && !allow_default_model) return Model::preset(selection.preset, 0, optimize);
  if (!allow_default_model) throw InputError("give --weights FILE or --model NAME");
  if (!selection.preset.empty()) return Model::preset(selection.preset, 0, optimize);
  const std::vector<std::string> paths = default_model_paths();
  for (const std::string& path : paths)
    if (std::filesystem::exists(path)) return Model::load(path, {"", optimize});
  std::string tried;
  for (const std::string& path : paths) tried += (tried.empty() ? "'" : " or '") + path + "'";
  throw InputError("bundled default model not found at " + (tried.empty() ? "''" : tried) +
                   "; give --weights FILE");
}

std::shared_ptr<Runtime> open_runtime(const ModelSelection& selection) {
  DeviceOptions options;
  options.device_index = selection.device;
  return Runtime::create(options);
}

}  // namespace vkvision::cli
