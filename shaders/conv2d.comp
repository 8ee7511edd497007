#version 450
// Direct convolution with NHWC output (the layout every later kernel reads), from an NHWC input
// or, for a network's first layer, straight from the user's NCHW tensor (no separate transpose).
// Each invocation computes 4 output pixels x 4 output channels. Weights are laid out at load as
// [KH][KW][IC/groups][OC4*4]. Grouped convolutions have OC/groups a multiple of 4 so a tile's four
// channels share one group (the host runs other grouped shapes dense; depthwise has its own kernel).
//
//   conv2d:        storage buffers; NCHW or NHWC input, any channel count.
//   conv2d_texel:  NHWC input and weights through RGBA32F texel buffers, IC/groups a multiple of 4:
//                  four input channels per load (see gemm.comp for why texel fetches).
// @variant conv2d_texel -DTEXEL_OPERANDS=1
// fp16 weights (weight_types.glsl): the storage path as conv2d_half_weights; conv2d_texel reads them
// unchanged through an RGBA16F view.
// @variant conv2d_half_weights -DHALF_WEIGHTS=1
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"
#include "activation.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const bool INPUT_NCHW = false;
layout(constant_id = 1) const int ACTIVATION = ACTIVATION_NONE;

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

layout(push_constant) uniform Params {
  uint N, IH, IW, IC;
  uint OH, OW, OC, OC4;
  uint KH, KW, SH, SW;
  uint PH, PW, groups;
} p;

uint input_index(uint n, uint ih, uint iw, uint c) {
  if (INPUT_NCHW) return ((n * p.IC + c) * p.IH + ih) * p.IW + iw;
  return ((n * p.IH + ih) * p.IW + iw) * p.IC + c;
}

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint tile_n = id % p.OC4;
  const uint p0 = (id / p.OC4) * 4;
  const uint pixels = p.N * p.OH * p.OW;
  if (p0 >= pixels) return;

  const uint ic_per_group = p.IC / p.groups;
  const uint group = (tile_n * 4) / (p.OC / p.groups);
  const uint ic_base = group * ic_per_group;

  uint n[4], oh[4], ow[4];
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    uint pixel = min(p0 + i, pixels - 1);
    ow[i] = pixel % p.OW;
    oh[i] = (pixel / p.OW) % p.OH;
    n[i] = pixel / (p.OW * p.OH);
  }
  vec4 acc[4];
  [[unroll]] for (uint i = 0; i < 4; ++i) acc[i] = bias[tile_n];

  for (uint kh = 0; kh < p.KH; ++kh) {
    for (uint kw = 0; kw < p.KW; ++kw) {
      bool valid[4];
      uint base[4];
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        int ih = int(oh[i] * p.SH + kh) - int(p.PH);
        int iw = int(ow[i] * p.SW + kw) - int(p.PW);
        valid[i] = ih >= 0 && iw >= 0 && ih < int(p.IH) && iw < int(p.IW);
        base[i] = valid[i] ? input_index(n[i], uint(ih), uint(iw), ic_base) : 0;
      }
      const uint w_base = (kh * p.KW + kw) * ic_per_group;
#if TEXEL_OPERANDS
      for (uint c = 0; c < ic_per_group; c += 4) {
        vec4 xv[4];
        [[unroll]] for (uint i = 0; i < 4; ++i) xv[i] = valid[i] ? texelFetch(x4, int((base[i] + c) >> 2)) : vec4(0.0);
        [[unroll]] for (uint j = 0; j < 4; ++j) {
          vec4 wk = LOAD_W((w_base + c + j) * p.OC4 + tile_n);
          [[unroll]] for (uint i = 0; i < 4; ++i) acc[i] += xv[i][j] * wk;
        }
      }
#else
      const uint stride_c = INPUT_NCHW ? p.IH * p.IW : 1;
      for (uint c = 0; c < ic_per_group; ++c) {
        vec4 wk = LOAD_W((w_base + c) * p.OC4 + tile_n);
        [[unroll]] for (uint i = 0; i < 4; ++i)
          if (valid[i]) acc[i] += x[base[i] + c * stride_c] * wk;
      }
#endif
    }
  }
  const uint c0 = tile_n * 4;
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    if (p0 + i >= pixels) break;
    vec4 value = activate(acc[i], ACTIVATION);
    [[unroll]] for (uint j = 0; j < 4; ++j)
      if (c0 + j < p.OC) y[(p0 + i) * p.OC + c0 + j] = value[j];
  }
}
