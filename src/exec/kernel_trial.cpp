#include "exec/kernel_trial.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>

#include "exec/plan.h"
#include "ops/gemm.h"

namespace vkvision::exec {
namespace {

// The trial network: a ConvNeXt-tiny stage-1 MLP at batch 1 (28x28 tokens, 192 -> 768 with GELU ->
// 192), 0.46 GFLOP: large enough that launch overhead does not decide, small enough to take well
// under a second even on lavapipe. A 1x1 stem turns the NCHW input into tokens.
LayerList trial_network() {
  constexpr int64_t kChannels = 192, kHidden = 768;
  std::mt19937 generator(7);
  std::uniform_real_distribution<float> uniform(-0.1f, 0.1f);
  auto tensor = [&](std::vector<int64_t> shape) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    std::vector<float> values(static_cast<size_t>(count));
    for (auto& v : values) v = uniform(generator);
    return HostTensor::from(std::move(shape), std::move(values));
  };
  LayerList list;
  list.input_channels = 4;
  Layer stem{.op = OpKind::Conv2d, .name = "trial.stem", .inputs = {"input"}, .output = "tokens"};
  stem.params = {{"weight", tensor({kChannels, 4, 1, 1})}, {"bias", tensor({kChannels})}};
  stem.input_nchw = true;
  Layer fc1{.op = OpKind::Linear, .name = "trial.fc1", .inputs = {"tokens"}, .output = "hidden"};
  fc1.params = {{"weight", tensor({kHidden, kChannels})}, {"bias", tensor({kHidden})}};
  fc1.activation = ops::Activation::Gelu;
  Layer fc2{.op = OpKind::Linear, .name = "trial.fc2", .inputs = {"hidden"}, .output = "output"};
  fc2.params = {{"weight", tensor({kChannels, kHidden})}, {"bias", tensor({kChannels})}};
  list.layers = {stem, fc1, fc2};
  list.output = "output";
  return list;
}

// Median milliseconds of the trial's GEMMs with one family: device timestamps where the queue has
// them (the GEMM layers only), else wall time of whole runs.
double time_family(const std::shared_ptr<vk::Context>& context, vk::PipelineCache& pipelines,
                   const LayerList& list, KernelFamily family) {
  constexpr uint32_t kSize = 28, kRepeats = 5;
  Plan plan(context, pipelines, list, 1, kSize, kSize, family);
  std::vector<float> input(plan.input_count(), 0.5f), output(plan.output_count());
  plan.run(input, output);  // warm-up: pipelines compiled, memory touched
  std::vector<double> times;
  for (uint32_t r = 0; r < kRepeats; ++r) {
    if (context->info().timestamps) {
      double ms = 0;
      for (const auto& layer : plan.profile(input))
        if (layer.op.rfind("linear", 0) == 0) ms += layer.milliseconds;
      times.push_back(ms);
    } else {
      const auto start = std::chrono::steady_clock::now();
      plan.run(input, output);
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

const char* family_word(KernelFamily family) {
  return family == KernelFamily::SharedTiled ? "tiled" : "register";
}

// "register 5.2 11.9": the family, then each family's trial time in ms (register, tiled).
std::optional<KernelFamily> parse_decision(const std::string& value) {
  std::istringstream in(value);
  std::string word;
  in >> word;
  if (word == "register") return KernelFamily::RegisterBlocked;
  if (word == "tiled") return KernelFamily::SharedTiled;
  return std::nullopt;
}

}  // namespace

KernelChoice choose_kernel_family(const std::shared_ptr<vk::Context>& context, vk::PipelineCache& pipelines,
                                  KernelFamily requested) {
  // A family the device cannot run is never chosen: the other one is, and the reason says why.
  if (const std::string unsupported = ops::gemm_tiled_unsupported_reason(context->info());
      !unsupported.empty())
    return {KernelFamily::RegisterBlocked,
            std::string(requested == KernelFamily::SharedTiled ? "tiled requested, but " : "") + unsupported};
  if (requested == KernelFamily::RegisterBlocked || requested == KernelFamily::SharedTiled)
    return {requested, "requested"};
  if (requested == KernelFamily::Auto) {
    if (auto rule = ops::preferred_gemm_operands(context->info()))
      return {*rule == ops::GemmOperands::Tiled ? KernelFamily::SharedTiled : KernelFamily::RegisterBlocked,
              "device properties"};
  }
  if (auto cached = pipelines.decision(kGemmFamilyDecision))
    if (auto family = parse_decision(*cached)) return {*family, "cached trial"};

  const LayerList list = trial_network();
  const double register_ms = time_family(context, pipelines, list, KernelFamily::RegisterBlocked);
  const double tiled_ms = time_family(context, pipelines, list, KernelFamily::SharedTiled);
  const KernelFamily winner =
      tiled_ms < register_ms ? KernelFamily::SharedTiled : KernelFamily::RegisterBlocked;
  std::ostringstream value;
  value.precision(4);
  value << family_word(winner) << ' ' << register_ms << ' ' << tiled_ms;
  pipelines.record_decision(kGemmFamilyDecision, value.str());
  return {winner, "timed trial"};
}

}  // namespace vkvision::exec
