#include "ops/conv2d.h"

#include "conv2d_abi.h"
#include "ops/half_weights.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {
uint32_t quads(uint32_t n) { return (n + 3) / 4; }

// A 4-channel output tile must lie in one group. Grouped convolutions whose groups hold a channel
// count not a multiple of 4 run as one dense convolution with a block-diagonal kernel: exact, at
// `groups` times the multiply-adds (no official grouped network has such widths; reduced ones do).
uint32_t kernel_groups(const Conv2dShape& s) { return (s.oc / s.groups) % 4 == 0 ? s.groups : 1; }

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
  const abi::Conv2dPush push{s.n,  s.ih, s.iw, s.ic, s.oh(), s.ow(), s.oc,    quads(s.oc),
                             s.kh, s.kw, s.sh, s.sw, s.ph,   s.pw,   s.groups};
  const bool texel = conv2d_uses_texel_path(device, shape);
  vk::Dispatch dispatch;
  dispatch.shader = texel ? vk::ShaderId::conv2d_texel : vk::ShaderId::conv2d;
  dispatch.texel = texel ? 0b11u : 0u;
  // QUADS (specialisation constant 2) in conv2d.comp: a tile of 4 * quads channels must lie in one group.
  const uint32_t channels_per_group = s.oc / s.groups;
  const uint32_t tile_quads = s.groups == 1 || channels_per_group % 16 == 0 ? 4
                              : channels_per_group % 8 == 0                 ? 2
                                                                            : 1;
  constexpr uint32_t kPixels = CONV2D_PIXELS;
  dispatch.specialization = {s.input_nchw ? 1 : 0, static_cast<int32_t>(activation), int32_t(tile_quads)};
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  const uint64_t pixels = static_cast<uint64_t>(s.n) * push.OH * push.OW;
  const uint64_t tiles = (pixels + kPixels - 1) / kPixels * ((push.OC4 + tile_quads - 1) / tile_quads);
  dispatch.groups = vk::groups_for(tiles, CONV2D_LOCAL_SIZE_X, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

}  // namespace vkvision::ops
