#version 450
// InceptionNeXt's token mixer, as inception_depthwise_conv2d.comp, four channels at a time: for
// channel counts where every branch boundary (I, I+G, I+2G) is a multiple of 4, which is every
// InceptionNeXt configuration (G = C / 8 with C a multiple of 32). The input is read through an
// RGBA32F texel buffer (the cheap loads on lavapipe), the kernel sizes are specialisation constants
// so every tap loop unrolls, and each invocation computes PIXELS adjacent output pixels of one
// channel quad. Neighbouring invocations take neighbouring pixel tiles of the same quad, so the
// branch an invocation takes is the same across a SIMD bundle except at a branch boundary.
// Weights: [KS*KS][G] (square), then [KB][G] (1 x KB), then [KB][G] (KB x 1); bias [3G].
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "inception_depthwise_conv2d_abi.h"
layout(local_size_x = INCEPTION_DEPTHWISE_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const uint KS = 3;   // square kernel
layout(constant_id = 1) const uint KB = 11;  // band kernel

layout(binding = 0) uniform samplerBuffer x4;                     // [N, H, W, C] as vec4
layout(binding = 1) readonly buffer Weight { WEIGHT_VEC4 w[]; };  // as above, 4 channels per element
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };         // [3G] as vec4
layout(binding = 3) writeonly buffer Output { vec4 y[]; };         // [N, H, W, C] as vec4

const uint PIXELS = 4;

// Input quad c4 of pixel (n, ih, iw), zero outside the map.
vec4 load(uint n, int ih, int iw, uint c4) {
  const bool inside = ih >= 0 && ih < int(p.H) && iw >= 0 && iw < int(p.W);
  return inside ? texelFetch(x4, int(((n * p.H + uint(ih)) * p.W + uint(iw)) * (p.C / 4) + c4)) : vec4(0.0);
}

vec4 weight(uint base, uint tap, uint lane4) { return vec4(w[(base + tap * p.G) / 4 + lane4]); }

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint C4 = p.C / 4, W_TILES = (p.W + PIXELS - 1) / PIXELS;
  const uint tiles = p.N * p.H * W_TILES;
  const uint c4 = id / tiles, tile = id % tiles;
  if (c4 >= C4) return;
  const uint w0 = (tile % W_TILES) * PIXELS, row = tile / W_TILES;  // n * H + h
  const uint h = row % p.H, n = row / p.H;
  const uint out_base = (row * p.W + w0) * C4 + c4;

  if (4 * c4 < p.I) {
    [[unroll]] for (uint i = 0; i < PIXELS; ++i)
      if (w0 + i < p.W) y[out_base + i * C4] = texelFetch(x4, int(out_base + i * C4));
    return;
  }
  const uint branch = (4 * c4 - p.I) / p.G, lane4 = ((4 * c4 - p.I) % p.G) / 4;
  vec4 acc[PIXELS];
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) acc[i] = bias[(branch * p.G) / 4 + lane4];
  if (branch == 0) {
    // KS x KS, padding KS / 2: each input column of a kernel row is loaded once for all pixels.
    [[unroll]] for (uint r = 0; r < KS; ++r) {
      const int ih = int(h + r) - int(KS / 2);
      vec4 columns[PIXELS + KS - 1];
      [[unroll]] for (uint column = 0; column < PIXELS + KS - 1; ++column)
        columns[column] = load(n, ih, int(w0 + column) - int(KS / 2), c4);
      [[unroll]] for (uint k = 0; k < KS; ++k) {
        const vec4 wk = weight(0, r * KS + k, lane4);
        [[unroll]] for (uint i = 0; i < PIXELS; ++i) acc[i] += columns[i + k] * wk;
      }
    }
  } else if (branch == 1) {
    // 1 x KB, padding (0, KB / 2).
    vec4 columns[PIXELS + KB - 1];
    [[unroll]] for (uint column = 0; column < PIXELS + KB - 1; ++column)
      columns[column] = load(n, int(h), int(w0 + column) - int(KB / 2), c4);
    [[unroll]] for (uint k = 0; k < KB; ++k) {
      const vec4 wk = weight(KS * KS * p.G, k, lane4);
      [[unroll]] for (uint i = 0; i < PIXELS; ++i) acc[i] += columns[i + k] * wk;
    }
  } else {
    // KB x 1, padding (KB / 2, 0).
    [[unroll]] for (uint k = 0; k < KB; ++k) {
      const int ih = int(h + k) - int(KB / 2);
      const vec4 wk = weight((KS * KS + KB) * p.G, k, lane4);
      [[unroll]] for (uint i = 0; i < PIXELS; ++i) acc[i] += load(n, ih, int(w0 + i), c4) * wk;
    }
  }
  [[unroll]] for (uint i = 0; i < PIXELS; ++i)
    if (w0 + i < p.W) y[out_base + i * C4] = acc[i];
}
