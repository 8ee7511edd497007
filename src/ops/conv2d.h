// The general direct convolution on NHWC activations (stems, downsampling, grouped and dense
// k x k). Kernel: shaders/conv2d.comp.
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

}  // namespace vkvision::ops
