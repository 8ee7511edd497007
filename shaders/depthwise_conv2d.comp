#version 450
// Depthwise convolution on NHWC: each invocation computes 4 adjacent channels of 4 horizontally
// adjacent output pixels. Walking the input columns once per kernel row and adding each loaded
// column into every output that uses it cuts input loads from 4*KW to 3*SW+KW per row (10 instead
// of 28 for 7x7). Any KH x KW (7x7 in ConvNeXt; the 1 x k and k x 1 bands of InceptionNeXt),
// stride and padding. Weights are laid out as [KH*KW][C4*4], bias [C4*4].
//
//   depthwise_conv2d:        storage-buffer input, any C.
//   depthwise_conv2d_texel:  input and weights through RGBA32F texel buffers (C a multiple of 4).
// @variant depthwise_conv2d_texel -DTEXEL_OPERANDS=1
// fp16 weights (weight_types.glsl): the storage path as depthwise_conv2d_half_weights; the texel
// variant reads them unchanged through an RGBA16F view.
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "depthwise_conv2d_abi.h"
layout(local_size_x = DEPTHWISE_CONV2D_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "weight_types.glsl"

#if TEXEL_OPERANDS
layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w;
#define LOAD_W(index) texelFetch(w, int(index))
#else
layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_VEC4 w_data[]; };
#define LOAD_W(index) vec4(w_data[index])
#endif
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) writeonly buffer Output { float y[]; };

// Kernel size and stride as specialisation constants (0: take the push constants), so the driver
// sees constant trip counts and unrolls the tap loops with the tap-to-output mapping resolved at
// compile time: lavapipe does not unroll loops with run-time bounds (LAVAPIPE.md).
layout(constant_id = 0) const uint SPEC_KH = 0;
layout(constant_id = 1) const uint SPEC_KW = 0;
layout(constant_id = 2) const uint SPEC_SW = 0;

vec4 load_input(uint base, uint c0) {
#if TEXEL_OPERANDS
  return texelFetch(x4, int((base + c0) >> 2));
#else
  // Channels past C read the last channel (in bounds); those lanes are never stored.
  return vec4(x[base + c0], x[base + min(c0 + 1, p.C - 1)], x[base + min(c0 + 2, p.C - 1)],
              x[base + min(c0 + 3, p.C - 1)]);
#endif
}

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint OW4 = (p.OW + 3) / 4;
  const uint tile_c = id % p.C4;
  const uint tile_w = (id / p.C4) % OW4;
  const uint row = id / (p.C4 * OW4);  // n * OH + oh
  if (row >= p.N * p.OH) return;
  const uint oh = row % p.OH, n = row / p.OH;
  const uint ow0 = tile_w * 4;
  const uint c0 = tile_c * 4;

  vec4 acc[4];
  [[unroll]] for (uint i = 0; i < 4; ++i) acc[i] = bias[tile_c];
  const uint KH = SPEC_KH != 0 ? SPEC_KH : p.KH, KW = SPEC_KW != 0 ? SPEC_KW : p.KW;
  const uint SW = SPEC_SW != 0 ? SPEC_SW : p.SW;
  const uint columns = 3 * SW + KW;
  [[unroll]] for (uint kh = 0; kh < KH; ++kh) {
    const int ih = int(oh * p.SH + kh) - int(p.PH);
    if (ih < 0 || ih >= int(p.H)) continue;
    const uint row_base = (n * p.H + uint(ih)) * p.W;
    [[unroll]] for (uint column = 0; column < columns; ++column) {
      const int iw = int(ow0 * SW + column) - int(p.PW);
      if (iw < 0 || iw >= int(p.W)) continue;
      const vec4 v = load_input((row_base + uint(iw)) * p.C, c0);
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const int kw = int(column) - int(i * SW);
        if (kw >= 0 && kw < int(KW)) acc[i] += v * LOAD_W((kh * KW + uint(kw)) * p.C4 + tile_c);
      }
    }
  }
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    if (ow0 + i >= p.OW) break;
    const uint out_base = (row * p.OW + ow0 + i) * p.C;
    [[unroll]] for (uint j = 0; j < 4; ++j)
      if (c0 + j < p.C) y[out_base + c0 + j] = acc[i][j];
  }
}
