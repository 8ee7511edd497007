// Which GEMM kernel family a plan runs: the one asked for, the one the device's queried properties
// clearly favour (ops::preferred_gemm_operands), or, where they do not, the faster of the two in a
// one-time timed trial whose result is cached with the pipeline cache (per device and driver).
#pragma once
#include <memory>
#include <string>

#include "vk/context.h"
#include "vk/pipeline.h"
#include "vkvision/vkvision.h"

namespace vkvision::exec {

struct KernelChoice {
  KernelFamily family = KernelFamily::RegisterBlocked;  // RegisterBlocked or SharedTiled
  std::string reason;  // "requested", "device properties", "timed trial", "cached trial"
};

// requested: Auto (rule, else trial), Timed (trial even where the rule is clear), or a family.
KernelChoice choose_kernel_family(const std::shared_ptr<vk::Context>& context, vk::PipelineCache& pipelines,
                                  KernelFamily requested);

// The decision name under which the trial's result is cached (PipelineCache::decision).
inline constexpr const char* kGemmFamilyDecision = "gemm_family";

}  // namespace vkvision::exec
