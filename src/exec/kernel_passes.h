// The passes that suit one GEMM kernel family on one device, run by the plan after the IR's own
// (ir::optimization_passes) and shown by `vkvision inspect --kernels`. The register family (CPU-class
// devices, lavapipe) fuses a depthwise conv with its LayerNorm and leaves the normalisation to the
// Linear after it: one invocation walks all channels of a pixel, which would starve a GPU. The tiled
// (GPU-class) family instead folds each LayerNorm into the GEMM that reads it and runs Swin's
// attention with its projection: both add per-element arithmetic or shared memory that pay on a GPU
// and lose on lavapipe (measured: docs/PERFORMANCE.md).
#pragma once
#include <cstdint>

#include "ir/passes.h"
#include "vkvision/device.h"
#include "vkvision/vkvision.h"

namespace vkvision::exec {

// family: RegisterBlocked or SharedTiled (Auto is resolved first: exec/kernel_trial.h). The passes
// ask the device whether it runs each fused kernel at this batch and input size. The first pass is
// ir::batchnorm_to_affine, for lists that did not go through the IR's passes.
ir::PassPipeline kernel_family_passes(const DeviceInfo& info, KernelFamily family, uint32_t batch,
                                      uint32_t height, uint32_t width);

}  // namespace vkvision::exec
