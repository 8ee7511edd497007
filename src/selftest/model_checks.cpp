#include "selftest/model_checks.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include "io/npy.h"
#include "ops/gemm.h"
#include "ops/half_weights.h"
#include "selftest/logit_bounds.h"

namespace vkvision::selftest {

const std::vector<FamilyFixture>& family_fixtures() {
  static const std::vector<FamilyFixture> fixtures = {
      {"convnext", "convnext/timm.safetensors", "convnext/input.npy", "convnext/timm_logits.npy"},
      {"convnext", "convnext/torchvision.pth", "convnext/input.npy", "convnext/torchvision_logits.npy"},
      {"convnext_v2", "convnextv2/official.pth", "convnextv2/input.npy", "convnextv2/official_logits.npy"},
      {"inceptionnext", "inceptionnext/timm_atto_form.safetensors", "inceptionnext/input.npy",
       "inceptionnext/timm_atto_form_logits.npy"},
      {"repvgg", "repvgg/official_train.pth", "repvgg/input.npy", "repvgg/logits.npy"},
      {"repmlpnet", "repmlpnet/official_train.pth", "repmlpnet/input.npy", "repmlpnet/logits.npy"},
      {"swin", "swin/v1_timm.pth", "swin/input36.npy", "swin/v1_logits36.npy"},
      {"swin_v2", "swin/v2_torchvision.pth", "swin/input36.npy", "swin/v2_logits36.npy"},
      {"swin_mlp", "swin/mlp_official.pth", "swin/input32.npy", "swin/mlp_logits32.npy"},
      {"mlp_mixer", "mlp/mixer_timm.safetensors", "mlp/input28.npy", "mlp/mixer_timm_logits.npy"},
      {"gmixer", "mlp/gmixer_timm.safetensors", "mlp/input28.npy", "mlp/gmixer_timm_logits.npy"},
      {"resmlp", "mlp/resmlp_official.pth", "mlp/input28.npy", "mlp/resmlp_official_logits.npy"},
      {"gmlp", "mlp/gmlp_timm.safetensors", "mlp/input28.npy", "mlp/gmlp_timm_logits.npy"},
  };
  return fixtures;
}

namespace {

struct ModelPath {
  const char* name;
  KernelFamily kernels;
  Precision precision;
};
constexpr ModelPath kModelPaths[] = {
    {"RegisterFp32", KernelFamily::RegisterBlocked, Precision::Fp32},
    {"TiledFp32", KernelFamily::SharedTiled, Precision::Fp32},
    {"RegisterFp16", KernelFamily::RegisterBlocked, Precision::Fp16},
    {"TiledFp16", KernelFamily::SharedTiled, Precision::Fp16},
};

std::string unsupported_reason(const DeviceInfo& device, const ModelPath& path) {
  if (path.kernels == KernelFamily::SharedTiled)
    if (std::string reason = ops::gemm_tiled_unsupported_reason(device); !reason.empty()) return reason;
  if (path.precision == Precision::Fp16) return ops::half_weights_unsupported_reason(device);
  return {};
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t dim : shape) text += (text.empty() ? "" : "x") + std::to_string(dim);
  return text;
}

// The worst element of the logits against atol + rtol |expected|, as the model tests judge them.
CheckStatus compare_logits(const std::vector<float>& actual, const std::vector<float>& expected, double bound,
                           std::string& detail) {
  if (actual.size() != expected.size()) {
    detail = std::to_string(actual.size()) + " logits, PyTorch gave " + std::to_string(expected.size());
    return CheckStatus::Failed;
  }
  const WorstTolerance worst_element = worst_tolerance(actual, expected, bound, bound);
  const size_t worst = worst_element.index;
  const double worst_ratio = worst_element.ratio;
  std::ostringstream text;
  text.precision(6);
  const bool ok = worst_ratio <= 1.0;
  text << (ok ? "worst error/bound " : "logit ") << (ok ? worst_ratio : double(worst));
  if (!ok)
    text << ": got " << actual[worst] << ", PyTorch " << expected[worst] << " (|error| "
         << std::abs(double(actual[worst]) - expected[worst]) << ", bound " << bound << " + " << bound
         << "|PyTorch|)";
  detail = text.str();
  return ok ? CheckStatus::Passed : CheckStatus::Failed;
}

}  // namespace

void run_model_checks(const std::shared_ptr<Runtime>& runtime, const std::filesystem::path& folder,
                      const std::string& filter, const std::function<void(const CheckResult&)>& report) {
  for (const FamilyFixture& fixture : family_fixtures()) {
    if (!filter.empty() && std::string(fixture.family).find(filter) == std::string::npos &&
        std::string(fixture.weights).find(filter) == std::string::npos)
      continue;
    CheckResult base{"model", fixture.family, fixture.weights, "", ""};
    std::optional<Model> model;
    io::NpyArray input, expected;
    try {
      model = Model::load(folder / fixture.weights);
      input = io::read_npy(folder / fixture.input);
      expected = io::read_npy(folder / fixture.logits);
      base.shape = shape_text(input.shape);
      if (model->info().family != fixture.family)
        throw InputError(std::string(fixture.weights) + ": taken for " + model->info().family + ", not " +
                         fixture.family);
      if (input.shape.size() != 4 || input.shape[1] != 3 || input.shape[2] != input.shape[3])
        throw InputError(std::string(fixture.input) + ": not [N, 3, S, S]");
    } catch (const std::exception& error) {
      CheckResult result = base;
      result.path = "load";
      result.detail = error.what();
      report(result);
      continue;
    }
    for (const ModelPath& path : kModelPaths) {
      CheckResult result = base;
      result.path = path.name;
      const auto start = std::chrono::steady_clock::now();
      if (std::string reason = unsupported_reason(runtime->device(), path); !reason.empty()) {
        result.status = CheckStatus::NotSupported;
        result.detail = reason;
      } else {
        try {
          Session session(runtime, *model,
                          {.batch = static_cast<uint32_t>(input.shape[0]),
                           .input_size = static_cast<uint32_t>(input.shape[2]),
                           .kernels = path.kernels,
                           .precision = path.precision});
          // Twice: a second inference that differs from the first is a failure of its own kind.
          const std::vector<float> first = session.run(input.data), second = session.run(input.data);
          const double bound =
              path.precision == Precision::Fp16 ? kHalfWeightsLogitTolerance : kFp32LogitTolerance;
          result.status = compare_logits(first, expected.data, bound, result.detail);
          if (result.status == CheckStatus::Passed && second != first) {
            result.status = CheckStatus::Failed;
            result.detail = "the second inference gave other logits than the first";
          }
        } catch (const std::exception& error) {
          result.status = CheckStatus::Failed;
          result.detail = error.what();
        }
      }
      result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      report(result);
    }
  }
}

}  // namespace vkvision::selftest
