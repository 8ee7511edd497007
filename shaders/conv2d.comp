#version 450
// Direct convolution with NHWC output (the layout every later kernel reads), from an NHWC input
// or, for a network's first layer, straight from the user's NCHW tensor (no separate transpose).
// Each invocation computes PIXELS output pixels x QUADS * 4 output channels, loading each weight
// vec4 once for all its pixels and each input value once for all its channels (loads, not FMAs,
// bound this on lavapipe; see gemm.comp). Weights are laid out at load as [KH][KW][IC/groups][OC4*4].
// In grouped convolutions a tile's channels share one group: the host picks QUADS so that
// 4 * QUADS divides OC/groups (and runs grouped shapes with OC/groups not a multiple of 4 dense).
//
//   conv2d:        storage buffers; NCHW or NHWC input, any channel count.
//   conv2d_texel:  NHWC input and weights through RGBA32F texel buffers, IC/groups a multiple of 4:
//                  four input channels per load (see gemm.comp for why texel fetches).
// @variant conv2d_texel -DTEXEL_OPERANDS=1
// fp16 weights (weight_types.glsl): the storage path as conv2d_half_weights; conv2d_texel reads them
// unchanged through an RGBA16F view.
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "conv2d_abi.h"
layout(local_size_x = CONV2D_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "activation.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const bool INPUT_NCHW = false;
layout(constant_id = 1) const int ACTIVATION = ACTIVATION_NONE;
layout(constant_id = 2) const uint QUADS = 4;
// Measured on lavapipe, batch 1: convnext_tiny's stem and three downsampling convs 28 ms with 4
// pixels x 4 channels, 12.6 ms with 12 x 16; repvgg_a0 215 -> 87 ms.
const uint PIXELS = CONV2D_PIXELS;

#if TEXEL_OPERANDS
layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w_texels;
#define LOAD_W(index) texelFetch(w_texels, int(index))
#else
layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_VEC4 w_data[]; };
#define LOAD_W(index) vec4(w_data[index])
#endif
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) writeonly buffer Output { float y[]; };

uint input_index(uint n, uint ih, uint iw, uint c) {
  if (INPUT_NCHW) return ((n * p.IC + c) * p.IH + ih) * p.IW + iw;
  return ((n * p.IH + ih) * p.IW + iw) * p.IC + c;
}

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint column_groups = (p.OC4 + QUADS - 1) / QUADS;
  const uint column_group = id % column_groups;
  const uint p0 = (id / column_groups) * PIXELS;
  const uint pixels = p.N * p.OH * p.OW;
  if (p0 >= pixels) return;

  // Column quads past OC4 (ungrouped only) and pixels past the end repeat the last valid one and are
  // not stored.
  uint quad[QUADS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) quad[q] = min(column_group * QUADS + q, p.OC4 - 1);
  const uint ic_per_group = p.IC / p.groups;
  const uint ic_base = ((column_group * QUADS * 4) / (p.OC / p.groups)) * ic_per_group;

  uint n[PIXELS], oh[PIXELS], ow[PIXELS];
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
    const uint pixel = min(p0 + i, pixels - 1);
    ow[i] = pixel % p.OW;
    oh[i] = (pixel / p.OW) % p.OH;
    n[i] = pixel / (p.OW * p.OH);
  }
  vec4 acc[PIXELS * QUADS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) {
    const vec4 b = bias[quad[q]];
    [[unroll]] for (uint i = 0; i < PIXELS; ++i) acc[QUADS * i + q] = b;
  }

  for (uint kh = 0; kh < p.KH; ++kh) {
    for (uint kw = 0; kw < p.KW; ++kw) {
      bool valid[PIXELS];
      uint base[PIXELS];
      [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
        const int ih = int(oh[i] * p.SH + kh) - int(p.PH);
        const int iw = int(ow[i] * p.SW + kw) - int(p.PW);
        valid[i] = ih >= 0 && iw >= 0 && ih < int(p.IH) && iw < int(p.IW);
        base[i] = valid[i] ? input_index(n[i], uint(ih), uint(iw), ic_base) : 0;
      }
      const uint w_base = (kh * p.KW + kw) * ic_per_group;
#if TEXEL_OPERANDS
      for (uint c = 0; c < ic_per_group; c += 4) {
        vec4 wk[4 * QUADS];
        [[unroll]] for (uint q = 0; q < QUADS; ++q)
          [[unroll]] for (uint j = 0; j < 4; ++j) wk[4 * q + j] = LOAD_W((w_base + c + j) * p.OC4 + quad[q]);
        [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
          const vec4 xv = valid[i] ? texelFetch(x4, int((base[i] + c) >> 2)) : vec4(0.0);
          [[unroll]] for (uint q = 0; q < QUADS; ++q)
            acc[QUADS * i + q] +=
                xv.x * wk[4 * q] + xv.y * wk[4 * q + 1] + xv.z * wk[4 * q + 2] + xv.w * wk[4 * q + 3];
        }
      }
#else
      const uint stride_c = INPUT_NCHW ? p.IH * p.IW : 1;
      for (uint c = 0; c < ic_per_group; ++c) {
        vec4 wk[QUADS];
        [[unroll]] for (uint q = 0; q < QUADS; ++q) wk[q] = LOAD_W((w_base + c) * p.OC4 + quad[q]);
        [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
          const float xv = valid[i] ? x[base[i] + c * stride_c] : 0.0;
          [[unroll]] for (uint q = 0; q < QUADS; ++q) acc[QUADS * i + q] += xv * wk[q];
        }
      }
#endif
    }
  }
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
    if (p0 + i >= pixels) break;
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      const vec4 value = activate(acc[QUADS * i + q], ACTIVATION);
      const uint c0 = (column_group * QUADS + q) * 4;
      [[unroll]] for (uint j = 0; j < 4; ++j)
        if (c0 + j < p.OC) y[(p0 + i) * p.OC + c0 + j] = value[j];
    }
  }
}
