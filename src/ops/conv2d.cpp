#include "ops/conv2d.h"

#include "ops/half_weights.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {
constexpr uint32_t kLocalSize = 64;  // local_size_x in every kernel here
uint32_t quads(uint32_t n) { return (n + 3) / 4; }

// A 4-channel output tile must lie in one group. Grouped convolutions whose groups hold a channel
// count not a multiple of 4 run as one dense convolution with a block-diagonal kernel: exact, at
// `groups` times the multiply-adds (no official grouped network has such widths; reduced ones do).
uint32_t kernel_groups(const Conv2dShape& s) { return (s.oc / s.groups) % 4 == 0 ? s.groups : 1; }

// Depthwise kernels are specialised on kernel size and stride (constant ids 0..2) so their tap loops
// unroll; a network has only a few distinct (KH, KW, SW), so this adds few pipelines.
std::vector<int32_t> depthwise_specialization(const Conv2dShape& s) {
  return {int32_t(s.kh), int32_t(s.kw), int32_t(s.sw)};
}
}  // namespace

std::vector<float> pack_conv2d_weight(std::span<const float> weight, const Conv2dShape& s) {
  const uint32_t icg = s.ic / s.groups, padded = quads(s.oc) * 4;
  // Packed input channels per output: icg, or all of them for a block-diagonal dense kernel.
  const uint32_t packed_icg = s.ic / kernel_groups(s), ocg = s.oc / s.groups;
  std::vector<float> packed(static_cast<size_t>(s.kh) * s.kw * packed_icg * padded, 0.0f);
  for (uint32_t o = 0; o < s.oc; ++o) {
    const uint32_t first = packed_icg == icg ? 0 : (o / ocg) * icg;
    for (uint32_t c = 0; c < icg; ++c)
      for (uint32_t y = 0; y < s.kh; ++y)
        for (uint32_t x = 0; x < s.kw; ++x)
          packed[((static_cast<size_t>(y) * s.kw + x) * packed_icg + first + c) * padded + o] =
              weight[((static_cast<size_t>(o) * icg + c) * s.kh + y) * s.kw + x];
  }
  return packed;
}

bool conv2d_uses_texel_path(const DeviceInfo& device, const Conv2dShape& shape) {
  const uint32_t icg = shape.ic / kernel_groups(shape);
  const uint64_t input_texels = uint64_t(shape.n) * shape.ih * shape.iw * shape.ic / 4;
  return device.texel_buffer_rgba32f && !shape.input_nchw && icg % 4 == 0 &&
         input_texels <= device.max_texel_buffer_elements &&
         uint64_t(shape.kh) * shape.kw * icg * quads(shape.oc) <= device.max_texel_buffer_elements;
}

vk::Dispatch conv2d(const DeviceInfo& device, const Conv2dShape& shape, Activation activation,
                    const vk::BufferSlice& input, const vk::BufferSlice& weight, const vk::BufferSlice& bias,
                    const vk::BufferSlice& output, bool half_weights) {
  Conv2dShape s = shape;
  s.groups = kernel_groups(shape);
  struct {
    uint32_t n, ih, iw, ic, oh, ow, oc, oc4, kh, kw, sh, sw, ph, pw, groups;
  } push{s.n, s.ih, s.iw, s.ic, s.oh(), s.ow(), s.oc, quads(s.oc), s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.groups};
  const bool texel = conv2d_uses_texel_path(device, shape);
  vk::Dispatch dispatch;
  dispatch.shader = texel ? "conv2d_texel" : "conv2d";
  dispatch.texel = texel ? 0b11u : 0u;
  // QUADS and PIXELS in conv2d.comp: a tile of 4 * quads channels must lie in one group.
  const uint32_t channels_per_group = s.oc / s.groups;
  const uint32_t tile_quads = s.groups == 1 || channels_per_group % 16 == 0 ? 4 : channels_per_group % 8 == 0 ? 2 : 1;
  constexpr uint32_t kPixels = 12;
  dispatch.specialization = {s.input_nchw ? 1 : 0, static_cast<int32_t>(activation), int32_t(tile_quads)};
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  const uint64_t pixels = static_cast<uint64_t>(s.n) * push.oh * push.ow;
  dispatch.groups = vk::groups_for((pixels + kPixels - 1) / kPixels * ((push.oc4 + tile_quads - 1) / tile_quads),
                                   kLocalSize, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

std::vector<float> pack_depthwise_weight(std::span<const float> weight, const Conv2dShape& s) {
  const uint32_t padded = quads(s.ic) * 4;
  std::vector<float> packed(static_cast<size_t>(s.kh) * s.kw * padded, 0.0f);
  for (uint32_t c = 0; c < s.ic; ++c)
    for (uint32_t t = 0; t < s.kh * s.kw; ++t) packed[static_cast<size_t>(t) * padded + c] = weight[static_cast<size_t>(c) * s.kh * s.kw + t];
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
  struct {
    uint32_t n, h, w, c, oh, ow, c4, kh, kw, sh, sw, ph, pw;
  } push{s.n, s.ih, s.iw, s.ic, s.oh(), s.ow(), quads(s.ic), s.kh, s.kw, s.sh, s.sw, s.ph, s.pw};
  const bool texel = depthwise_conv2d_uses_texel_path(device, s);
  vk::Dispatch dispatch;
  dispatch.shader = texel ? "depthwise_conv2d_texel" : "depthwise_conv2d";
  dispatch.texel = texel ? 0b11u : 0u;
  dispatch.specialization = depthwise_specialization(s);
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  // One invocation per (4 channels, 4 adjacent output columns) of each output row.
  const uint64_t column_tiles = (push.ow + 3) / 4;
  dispatch.groups = vk::groups_for(uint64_t(s.n) * push.oh * column_tiles * push.c4, kLocalSize, device);
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
  struct {
    uint32_t n, h, w, c, oh, ow, c4, kh, kw, sh, sw, ph, pw;
    float eps;
    uint32_t groups;
  } push{s.n, s.ih, s.iw, s.ic, s.oh(), s.ow(), quads(s.ic), s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, eps, tiling.groups};
  vk::Dispatch dispatch;
  dispatch.shader = "depthwise_conv2d_layer_norm";
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

std::vector<float> pack_inception_depthwise_weight(std::span<const float> square, std::span<const float> wide,
                                                   std::span<const float> tall, const InceptionDepthwiseShape& s) {
  const uint32_t g = s.branch;
  std::vector<float> packed;
  packed.reserve(size_t(g) * (s.square * s.square + 2 * s.band));
  // Tap-major, channel-minor: neighbouring invocations (channels) read neighbouring weights.
  auto append = [&](std::span<const float> weight, uint32_t taps) {
    if (weight.size() != size_t(g) * taps) throw Error("inception depthwise: branch weight has the wrong size");
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
    throw Error("inception depthwise: " + std::to_string(s.c) + " channels with branches of " + std::to_string(s.branch) +
                ", kernels " + std::to_string(s.square) + " and " + std::to_string(s.band) + " (odd kernels needed)");
  struct {
    uint32_t n, h, w, c, identity, branch, square, band;
  } push{s.n, s.h, s.w, s.c, s.identity(), s.branch, s.square, s.band};
  vk::Dispatch dispatch;
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  if (inception_depthwise_quads_supported(device, s)) {
    // One invocation per (channel quad, 4 adjacent output columns); kernel sizes specialised.
    dispatch.shader = "inception_depthwise_conv2d_quads";
    dispatch.texel = 0b1u;
    dispatch.specialization = {static_cast<int32_t>(s.square), static_cast<int32_t>(s.band)};
    dispatch.groups = vk::groups_for(uint64_t(s.n) * s.h * ((s.w + 3) / 4) * (s.c / 4), kLocalSize, device);
  } else {
    // One invocation per (channel, 4 adjacent output columns) of each output row.
    dispatch.shader = "inception_depthwise_conv2d";
    dispatch.groups = vk::groups_for(uint64_t(s.n) * s.h * ((s.w + 3) / 4) * s.c, kLocalSize, device);
  }
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

}  // namespace vkvision::ops
