// LayerNorm over the last axis (tokens, or the channels of NHWC pixels). Kernel: shaders/layer_norm.comp.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "vk/program.h"

namespace vkvision::ops {

// gamma[C] and beta[C] -> one buffer gamma|beta.
std::vector<float> pack_layer_norm_affine(std::span<const float> gamma, std::span<const float> beta);

// Swin PatchMerging's 2x2 gather applied to the input first, read in place: the input is this
// [n, h, w, channels / 4] map and the rows are its gathered [n, ceil(h/2), ceil(w/2), channels] pixels
// (as patch_merge_gather(), odd sizes zero-padded).
struct PatchGather {
  uint32_t n = 1, h = 0, w = 0;
};

// With a residual: output = residual + LayerNorm(input) (Swin v2 post-norm). With a gather, `rows`
// must be n * ceil(h/2) * ceil(w/2) and `channels` a multiple of 4.
vk::Dispatch layer_norm(const DeviceInfo& device, uint32_t rows, uint32_t channels, float eps,
                        const vk::BufferSlice& input, const vk::BufferSlice& affine,
                        const vk::BufferSlice& output,
                        const std::optional<vk::BufferSlice>& residual = std::nullopt,
                        const std::optional<PatchGather>& gather = std::nullopt);

}  // namespace vkvision::ops
