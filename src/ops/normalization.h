// LayerNorm over the last axis (tokens, or the channels of NHWC pixels). Kernel: shaders/layer_norm.comp.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "vk/program.h"

namespace vkvision::ops {

// gamma[C] and beta[C] -> one buffer gamma|beta.
std::vector<float> pack_layer_norm_affine(std::span<const float> gamma, std::span<const float> beta);

// With a residual: output = residual + LayerNorm(input) (Swin v2 post-norm).
vk::Dispatch layer_norm(const DeviceInfo& device, uint32_t rows, uint32_t channels, float eps,
                        const vk::BufferSlice& input, const vk::BufferSlice& affine, const vk::BufferSlice& output,
                        const std::optional<vk::BufferSlice>& residual = std::nullopt);

}  // namespace vkvision::ops
