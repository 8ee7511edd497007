// InceptionNeXt's channel-sliced depthwise convolution on NHWC activations
// (shaders/inception_depthwise_conv2d.comp, shaders/inception_depthwise_conv2d_quads.comp).
#pragma once
#include <span>
#include <vector>

#include "vk/program.h"

namespace vkvision::ops {

// Every dispatch function here takes half_weights: the weight buffer holds the packed weight as IEEE
// half (to_half in ops/half_weights.h), on a path the device can read it on (half_weights_supported).

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
                                                   std::span<const float> tall,
                                                   const InceptionDepthwiseShape& shape);

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
