#include <cstring>

#include "api/state.h"
#include "exec/kernel_passes.h"
#include "exec/kernel_trial.h"
#include "io/checkpoint.h"
#include "ir/passes.h"
#include "models/family.h"

namespace vkvision {
namespace {

Model finish(models::BuiltModel built, bool optimize, const std::string& origin) {
  auto state = std::make_shared<detail::ModelState>();
  state->info = std::move(built.info);
  state->optimize = optimize;
  try {
    // Shape-check the whole list once at the model's own input size (the passes keep shapes).
    const uint32_t size = state->info.preprocessing.input_size;
    ir::infer_shapes(built.layers, 1, size, size);
  } catch (const InputError& error) {
    if (std::strncmp(error.what(), origin.c_str(), origin.size()) == 0) throw;
    throw InputError(origin + ": " + error.what());
  }
  state->built = std::move(built.layers);
  return detail::Access::make_model(std::move(state));
}

}  // namespace

Model::Model(std::shared_ptr<const detail::ModelState> state) : state_(std::move(state)) {}

Model Model::load(const std::filesystem::path& weights, const ModelOptions& options) {
  const models::WeightSource source = models::WeightSource::from_checkpoint(
      std::make_shared<const io::Checkpoint>(io::Checkpoint::load(weights)));
  const models::Family& family =
      options.preset.empty() ? models::detect_family(source) : models::family_of_preset(options.preset);
  if (!family.matches(source))
    source.fail("is not a " + family.name() + " checkpoint, so it cannot be preset " + options.preset);
  return finish(models::build_strict(family, source, options.preset), options.optimize, weights.string());
}

Model Model::preset(const std::string& name, uint32_t seed, bool optimize) {
  return finish(models::random_preset(name, seed), optimize, "preset " + name);
}

const ModelInfo& Model::info() const { return state_->info; }

std::string Model::describe_passes(uint32_t batch, uint32_t input_size,
                                   const std::shared_ptr<Runtime>& runtime, KernelFamily kernels) const {
  if (input_size == 0) input_size = state_->info.preprocessing.input_size;
  ir::PassPipeline passes;
  if (state_->optimize) passes = ir::optimization_passes();
  std::string family;
  if (runtime) {
    detail::RuntimeState& device = detail::Access::state(*runtime);
    const exec::KernelChoice choice = exec::choose_kernel_family(device.context, *device.pipelines, kernels);
    family = choice.family == KernelFamily::SharedTiled ? "tiled" : "register";
    family += " kernel family (" + choice.reason + ")";
    for (ir::Pass& pass :
         exec::kernel_family_passes(device.context->info(), choice.family, batch, input_size, input_size))
      passes.push_back({pass.name + " [" + family.substr(0, family.find(' ')) + "]", std::move(pass.run)});
  }
  std::string text = "As built:\n" + ir::describe(state_->built, batch, input_size, input_size);
  std::string previous = text.substr(10);
  ir::run_passes(state_->built, passes, [&](const ir::Pass& pass, const ir::LayerList& list) {
    std::string now = ir::describe(list, batch, input_size, input_size);
    if (now == previous) {
      text += "After " + pass.name + ": unchanged\n";
    } else {
      text += "After " + pass.name + ":\n" + now;
      previous = std::move(now);
    }
  });
  if (!family.empty()) text += "Sessions on this device run the " + family + ".\n";
  return text;
}

std::string Model::describe_layers(bool optimized, uint32_t batch, uint32_t input_size) const {
  if (input_size == 0) input_size = state_->info.preprocessing.input_size;
  return ir::describe(optimized ? state_->layers() : state_->built, batch, input_size, input_size);
}

}  // namespace vkvision
