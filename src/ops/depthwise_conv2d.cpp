#include "ops/depthwise_conv2d.h"

#include "depthwise_conv2d_abi.h"
#include "depthwise_conv2d_layer_norm_abi.h"
#include "ops/half_weights.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {
uint32_t quads(uint32_t n) { return (n + 3) / 4; }

// Depthwise kernels are specialised on kernel size and stride (constant ids 0..2) so their tap loops
// unroll; a network has only a few distinct (KH, KW, SW), so this adds few pipelines.
std::vector<int32_t> depthwise_specialization(const Conv2dShape& s) {
  return {int32_t(s.kh), int32_t(s.kw), int32_t(s.sw)};
}
}  // namespace

std::vector<float> pack_depthwise_weight(std::span<const float> weight, const Conv2dShape& s) {
  const uint32_t padded = quads(s.ic) * 4;
  std::vector<float> packed(static_cast<size_t>(s.kh) * s.kw * padded, 0.0f);
  for (uint32_t c = 0; c < s.ic; ++c)
    for (uint32_t t = 0; t < s.kh * s.kw; ++t)
      packed[static_cast<size_t>(t) * padded + c] = weight[static_cast<size_t>(c) * s.kh * s.kw + t];
  return packed;
}

bool depthwise_conv2d_uses_texel_path(const DeviceInfo& device, const Conv2dShape& s) {
  // Whole vec4 pixels (C % 4 == 0) within the device's texel-buffer limits.
  const uint64_t input_texels = uint64_t(s.n) * s.ih * s.iw * s.ic / 4;
  return device.texel_buffer_rgba32f && s.ic % 4 == 0 && input_texels <= device.max_texel_buffer_elements &&
         uint64_t(s.kh) * s.kw * quads(s.ic) <= device.max_texel_buffer_elements;
}

vk::Dispatch depthwise_conv2d(const DeviceInfo& device, const Conv2dShape& s, const vk::BufferSlice& input,
                              const vk::BufferSlice& weight, const vk::BufferSlice& bias,
                              const vk::BufferSlice& output, bool half_weights) {
  const abi::DepthwiseConv2dPush push{s.n,  s.ih, s.iw, s.ic, s.oh(), s.ow(), quads(s.ic),
                                      s.kh, s.kw, s.sh, s.sw, s.ph,   s.pw};
  const bool texel = depthwise_conv2d_uses_texel_path(device, s);
  vk::Dispatch dispatch;
  dispatch.shader = texel ? vk::ShaderId::depthwise_conv2d_texel : vk::ShaderId::depthwise_conv2d;
  dispatch.texel = texel ? 0b11u : 0u;
  dispatch.specialization = depthwise_specialization(s);
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  // One invocation per (4 channels, 4 adjacent output columns) of each output row.
  const uint64_t column_tiles = (push.OW + 3) / 4;
  dispatch.groups =
      vk::groups_for(uint64_t(s.n) * push.OH * column_tiles * push.C4, DEPTHWISE_CONV2D_LOCAL_SIZE_X, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

DepthwiseNormTiling depthwise_layer_norm_tiling(const Conv2dShape& s) {
  DepthwiseNormTiling tiling;
  tiling.rows = s.sh == 1 && s.oh() > 1 ? kDepthwiseNormRows : 1;
  // Split only until the dispatch has 128 invocations: on lavapipe each workgroup costs a few
  // microseconds to start, so splitting a map that already has enough tiles loses (convnext_tiny,
  // batch 1: splitting every stage's tiles 8 ways took stage 0 from 2.7 to 3.5 ms; splitting only
  // the small late-stage maps took the 18 layers from 23.9 to 21.3 ms).
  constexpr uint64_t kMinimumInvocations = 128;
  tiling.tiles = uint64_t(s.n) * ((s.oh() + tiling.rows - 1) / tiling.rows) *
                 ((s.ow() + kDepthwiseNormPixels - 1) / kDepthwiseNormPixels);
  while (tiling.groups < kDepthwiseNormWorkgroup && tiling.groups * 2 <= quads(s.ic) &&
         tiling.tiles * tiling.groups < kMinimumInvocations)
    tiling.groups *= 2;
  return tiling;
}

bool depthwise_layer_norm_supported(const DeviceInfo& device, const Conv2dShape& s) {
  return device.texel_buffer_rgba32f && s.ic % 4 == 0 && s.ic == s.oc &&
         uint64_t(s.n) * s.ih * s.iw * s.ic / 4 <= device.max_texel_buffer_elements;
}

vk::Dispatch depthwise_conv2d_layer_norm(const DeviceInfo& device, const Conv2dShape& s, float eps,
                                         const vk::BufferSlice& input, const vk::BufferSlice& weight,
                                         const vk::BufferSlice& bias, const vk::BufferSlice& affine,
                                         const vk::BufferSlice& output, bool half_weights,
                                         std::optional<vk::BufferSlice> statistics) {
  if (!depthwise_layer_norm_supported(device, s))
    throw Error("depthwise + LayerNorm fusion needs RGBA32F texel buffers and channels divisible by 4");
  const DepthwiseNormTiling tiling = depthwise_layer_norm_tiling(s);
  const abi::DepthwiseConv2dLayerNormPush push{s.n,  s.ih, s.iw, s.ic, s.oh(), s.ow(), quads(s.ic),  s.kh,
                                               s.kw, s.sh, s.sw, s.ph, s.pw,   eps,    tiling.groups};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::depthwise_conv2d_layer_norm;
  dispatch.texel = 0b11u;
  dispatch.specialization = depthwise_specialization(s);
  // Without statistics the binding still needs a valid buffer; the shader never writes it.
  dispatch.buffers = {input, weight, bias, output, affine, statistics.value_or(output)};
  dispatch.written = statistics ? 0b101000u : 0b1000u;
  dispatch.set_push(push);
  dispatch.specialization.push_back(static_cast<int32_t>(tiling.rows));
  dispatch.specialization.push_back(statistics ? 1 : 0);
  dispatch.groups = vk::groups_for(tiling.tiles * tiling.groups, kDepthwiseNormWorkgroup, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

}  // namespace vkvision::ops
