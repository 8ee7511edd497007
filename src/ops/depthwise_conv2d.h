// Depthwise convolution on NHWC activations, plain (shaders/depthwise_conv2d.comp) and with
// LayerNorm over channels fused (shaders/depthwise_conv2d_layer_norm.comp).
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "depthwise_conv2d_layer_norm_abi.h"
#include "ops/conv2d.h"
#include "vk/program.h"

namespace vkvision::ops {

// Every dispatch function here takes half_weights: the weight buffer holds the packed weight as IEEE
// half (to_half in ops/half_weights.h), on a path the device can read it on (half_weights_supported).

// Depthwise: groups == ic == oc.
// PyTorch weight [C, 1, KH, KW] -> [KH*KW][round_up(C, 4)].
std::vector<float> pack_depthwise_weight(std::span<const float> weight, const Conv2dShape& shape);

bool depthwise_conv2d_uses_texel_path(const DeviceInfo& device, const Conv2dShape& shape);
vk::Dispatch depthwise_conv2d(const DeviceInfo& device, const Conv2dShape& shape,
                              const vk::BufferSlice& input, const vk::BufferSlice& weight,
                              const vk::BufferSlice& bias, const vk::BufferSlice& output,
                              bool half_weights = false);

// Depthwise convolution + LayerNorm over channels in one dispatch (shaders/depthwise_conv2d_layer_norm.comp):
// for devices with RGBA32F texel buffers and C % 4 == 0. Weights always through a texel buffer.
bool depthwise_layer_norm_supported(const DeviceInfo& device, const Conv2dShape& shape);
// Pixels per row of a tile and the workgroup size of depthwise_conv2d_layer_norm.comp, and the output
// rows per tile the host picks at stride 1 (its specialisation constant ROWS).
inline constexpr uint32_t kDepthwiseNormPixels = DEPTHWISE_LAYER_NORM_PIXELS, kDepthwiseNormRows = 2,
                          kDepthwiseNormWorkgroup = DEPTHWISE_LAYER_NORM_LOCAL_SIZE_X;
struct DepthwiseNormTiling {
  uint32_t rows = 1;    // output rows per tile
  uint32_t groups = 1;  // invocations splitting each tile's channels (a power of two)
  uint64_t tiles = 0;
};
// More groups where the map has few tiles.
DepthwiseNormTiling depthwise_layer_norm_tiling(const Conv2dShape& shape);
// statistics: leave the output un-normalised and write each pixel's (mean, 1/std) there instead (two
// floats per pixel), for a GEMM that applies the norm (GemmBuffers::row_statistics).
vk::Dispatch depthwise_conv2d_layer_norm(const DeviceInfo& device, const Conv2dShape& shape, float eps,
                                         const vk::BufferSlice& input, const vk::BufferSlice& weight,
                                         const vk::BufferSlice& bias, const vk::BufferSlice& affine,
                                         const vk::BufferSlice& output, bool half_weights = false,
                                         std::optional<vk::BufferSlice> statistics = std::nullopt);

}  // namespace vkvision::ops
