// Convolutions on NHWC activations: the general direct kernel (stems, downsampling, grouped and
// dense k x k), the depthwise kernel and InceptionNeXt's channel-sliced depthwise kernel. Kernels:
// shaders/conv2d.comp, shaders/depthwise_conv2d.comp, shaders/inception_depthwise_conv2d.comp.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "ops/activation.h"
#include "vk/program.h"

namespace vkvision::ops {

// Every dispatch function here takes half_weights: the weight buffer holds the packed weight as IEEE
// half (to_half in ops/half_weights.h), on a path the device can read it on (half_weights_supported).

struct Conv2dShape {
  uint32_t n = 1, ih = 0, iw = 0, ic = 0;  // input
  uint32_t oc = 0;                         // output channels
  uint32_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  uint32_t groups = 1;
  bool input_nchw = false;  // read the input as NCHW (a network's first layer)
  bool ceil_mode = false;   // round the output size up: the last windows read zeros past the input

  uint32_t oh() const { return (ih + 2 * ph + (ceil_mode ? sh - 1 : 0) - kh) / sh + 1; }
  uint32_t ow() const { return (iw + 2 * pw + (ceil_mode ? sw - 1 : 0) - kw) / sw + 1; }
};

// PyTorch weight [OC, IC/groups, KH, KW] -> [KH][KW][IC/groups][round_up(OC, 4)], zero-padded. When
// OC/groups is not a multiple of 4, [KH][KW][IC][round_up(OC, 4)] block-diagonal (run dense).
std::vector<float> pack_conv2d_weight(std::span<const float> weight, const Conv2dShape& shape);

// Whether conv2d() reads its weight through a texel buffer on this device (else a storage buffer).
bool conv2d_uses_texel_path(const DeviceInfo& device, const Conv2dShape& shape);
vk::Dispatch conv2d(const DeviceInfo& device, const Conv2dShape& shape, Activation activation,
                    const vk::BufferSlice& input, const vk::BufferSlice& weight, const vk::BufferSlice& bias,
                    const vk::BufferSlice& output, bool half_weights = false);

// Depthwise: groups == ic == oc.
// PyTorch weight [C, 1, KH, KW] -> [KH*KW][round_up(C, 4)].
std::vector<float> pack_depthwise_weight(std::span<const float> weight, const Conv2dShape& shape);

bool depthwise_conv2d_uses_texel_path(const DeviceInfo& device, const Conv2dShape& shape);
vk::Dispatch depthwise_conv2d(const DeviceInfo& device, const Conv2dShape& shape, const vk::BufferSlice& input,
                              const vk::BufferSlice& weight, const vk::BufferSlice& bias,
                              const vk::BufferSlice& output, bool half_weights = false);

// Depthwise convolution + LayerNorm over channels in one dispatch (shaders/depthwise_conv2d_layer_norm.comp):
// for devices with RGBA32F texel buffers and C % 4 == 0. Weights always through a texel buffer.
bool depthwise_layer_norm_supported(const DeviceInfo& device, const Conv2dShape& shape);
// PIXELS, output rows per tile (stride 1) and the workgroup size of depthwise_conv2d_layer_norm.comp.
inline constexpr uint32_t kDepthwiseNormPixels = 8, kDepthwiseNormRows = 2, kDepthwiseNormWorkgroup = 8;
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

// InceptionNeXt's token mixer (shaders/inception_depthwise_conv2d.comp): of C channels the first
// C - 3 * branch pass through, then three branches of `branch` channels each are depthwise
// convolutions square x square, 1 x band and band x 1, stride 1 and padding kernel / 2 (odd kernels).
struct InceptionDepthwiseShape {
  uint32_t n = 1, h = 0, w = 0, c = 0;
  uint32_t branch = 0, square = 3, band = 11;

  uint32_t identity() const { return c - 3 * branch; }
};

// PyTorch weights [G, 1, KS, KS], [G, 1, 1, KB], [G, 1, KB, 1] -> [KS*KS][G] ++ [KB][G] ++ [KB][G].
std::vector<float> pack_inception_depthwise_weight(std::span<const float> square, std::span<const float> wide,
                                                   std::span<const float> tall, const InceptionDepthwiseShape& shape);

// Bias: the three branches' [G] biases concatenated. Throws Error for a shape the kernel cannot run.
// Weights always through a storage buffer.
// Whether the four-channel kernel (shaders/inception_depthwise_conv2d_quads.comp) runs this shape:
// every branch boundary a multiple of 4 and the input within the device's texel-buffer limit.
bool inception_depthwise_quads_supported(const DeviceInfo& device, const InceptionDepthwiseShape& shape);
vk::Dispatch inception_depthwise_conv2d(const DeviceInfo& device, const InceptionDepthwiseShape& shape,
                                        const vk::BufferSlice& input, const vk::BufferSlice& weight,
                                        const vk::BufferSlice& bias, const vk::BufferSlice& output,
                                        bool half_weights = false);

}  // namespace vkvision::ops
