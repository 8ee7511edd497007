#version 450
// Depthwise convolution on NHWC: each invocation computes 4 adjacent channels of one output pixel,
// so neighbouring invocations read neighbouring memory. Any KH x KW (7x7 in ConvNeXt; the 1 x k and
// k x 1 bands of InceptionNeXt), stride and padding. Weights laid out as [KH*KW][C4*4], bias [C4*4].
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Weight { vec4 w[]; };
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) writeonly buffer Output { float y[]; };

layout(push_constant) uniform Params {
  uint N, H, W, C;
  uint OH, OW, C4, KH;
  uint KW, SH, SW, PH;
  uint PW;
} p;

void main() {
  const uint id = linear_invocation_id();
  const uint tile_c = id % p.C4;
  const uint pixel = id / p.C4;
  if (pixel >= p.N * p.OH * p.OW) return;
  const uint ow = pixel % p.OW;
  const uint oh = (pixel / p.OW) % p.OH;
  const uint n = pixel / (p.OW * p.OH);
  const uint c0 = tile_c * 4;
  // Channels past C read the last channel (in bounds) and are not stored.
  const uint c1 = min(c0 + 1, p.C - 1), c2 = min(c0 + 2, p.C - 1), c3 = min(c0 + 3, p.C - 1);

  vec4 acc = bias[tile_c];
  for (uint kh = 0; kh < p.KH; ++kh) {
    const int ih = int(oh * p.SH + kh) - int(p.PH);
    if (ih < 0 || ih >= int(p.H)) continue;
    for (uint kw = 0; kw < p.KW; ++kw) {
      const int iw = int(ow * p.SW + kw) - int(p.PW);
      if (iw < 0 || iw >= int(p.W)) continue;
      const uint base = ((n * p.H + uint(ih)) * p.W + uint(iw)) * p.C;
      vec4 v = vec4(x[base + c0], x[base + c1], x[base + c2], x[base + c3]);
      acc += v * w[(kh * p.KW + kw) * p.C4 + tile_c];
    }
  }
  const uint out_base = pixel * p.C;
  [[unroll]] for (uint j = 0; j < 4; ++j)
    if (c0 + j < p.C) y[out_base + c0 + j] = acc[j];
}
