#include "ops/inception_depthwise_conv2d.h"

#include "inception_depthwise_conv2d_abi.h"
#include "ops/half_weights.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {
constexpr uint32_t kLocalSize = INCEPTION_DEPTHWISE_LOCAL_SIZE_X;  // both kernels
}  // namespace

std::vector<float> pack_inception_depthwise_weight(std::span<const float> square, std::span<const float> wide,
                                                   std::span<const float> tall,
                                                   const InceptionDepthwiseShape& s) {
  const uint32_t g = s.branch;
  std::vector<float> packed;
  packed.reserve(size_t(g) * (s.square * s.square + 2 * s.band));
  // Tap-major, channel-minor: neighbouring invocations (channels) read neighbouring weights.
  auto append = [&](std::span<const float> weight, uint32_t taps) {
    if (weight.size() != size_t(g) * taps)
      throw Error("inception depthwise: branch weight has the wrong size");
    for (uint32_t t = 0; t < taps; ++t)
      for (uint32_t c = 0; c < g; ++c) packed.push_back(weight[size_t(c) * taps + t]);
  };
  append(square, s.square * s.square);
  append(wide, s.band);
  append(tall, s.band);
  return packed;
}

bool inception_depthwise_quads_supported(const DeviceInfo& device, const InceptionDepthwiseShape& s) {
  return device.texel_buffer_rgba32f && s.c % 4 == 0 && s.branch % 4 == 0 &&
         uint64_t(s.n) * s.h * s.w * s.c / 4 <= device.max_texel_buffer_elements;
}

vk::Dispatch inception_depthwise_conv2d(const DeviceInfo& device, const InceptionDepthwiseShape& s,
                                        const vk::BufferSlice& input, const vk::BufferSlice& weight,
                                        const vk::BufferSlice& bias, const vk::BufferSlice& output,
                                        bool half_weights) {
  if (s.branch == 0 || 3 * s.branch > s.c || s.square % 2 == 0 || s.band % 2 == 0)
    throw Error("inception depthwise: " + std::to_string(s.c) + " channels with branches of " +
                std::to_string(s.branch) + ", kernels " + std::to_string(s.square) + " and " +
                std::to_string(s.band) + " (odd kernels needed)");
  const abi::InceptionDepthwisePush push{s.n, s.h, s.w, s.c, s.identity(), s.branch, s.square, s.band};
  vk::Dispatch dispatch;
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  if (inception_depthwise_quads_supported(device, s)) {
    // One invocation per (channel quad, 4 adjacent output columns); kernel sizes specialised.
    dispatch.shader = vk::ShaderId::inception_depthwise_conv2d_quads;
    dispatch.texel = 0b1u;
    dispatch.specialization = {static_cast<int32_t>(s.square), static_cast<int32_t>(s.band)};
    dispatch.groups = vk::groups_for(uint64_t(s.n) * s.h * ((s.w + 3) / 4) * (s.c / 4), kLocalSize, device);
  } else {
    // One invocation per (channel, 4 adjacent output columns) of each output row.
    dispatch.shader = vk::ShaderId::inception_depthwise_conv2d;
    dispatch.groups = vk::groups_for(uint64_t(s.n) * s.h * ((s.w + 3) / 4) * s.c, kLocalSize, device);
  }
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

}  // namespace vkvision::ops
