#version 450
// Depthwise convolution followed by LayerNorm over channels (ConvNeXt's dwconv -> norm), fused so
// the un-normalised map never makes a round trip between two dispatches. Each invocation owns 4
// horizontally adjacent output pixels and walks all their channels, 4 at a time, with the column
// reuse of depthwise_conv2d.comp; it keeps the one-pass statistics (sum and sum of squares about
// the first channel, as layer_norm.comp) and then normalises its own pixels in place. Input and
// weights are RGBA32F texel buffers, so C must be a multiple of 4 (the host falls back otherwise);
// fp16 weights are read unchanged through an RGBA16F view.
// Parallelism is one invocation per 4 pixels: right for lavapipe's few wide cores; the plan keeps
// the unfused pair where this does not apply.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"

layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w;
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) buffer Output { vec4 y[]; };  // read back by the same invocation to normalise
layout(binding = 4) readonly buffer Affine { vec4 affine[]; };  // gamma[C] then beta[C]

// Kernel size and stride as specialisation constants (0: take the push constants), so the driver
// sees constant trip counts and unrolls the tap loops with the tap-to-output mapping resolved at
// compile time: lavapipe does not unroll loops with run-time bounds (LAVAPIPE.md).
layout(constant_id = 0) const uint SPEC_KH = 0;
layout(constant_id = 1) const uint SPEC_KW = 0;
layout(constant_id = 2) const uint SPEC_SW = 0;

layout(push_constant) uniform Params {
  uint N, H, W, C;
  uint OH, OW, C4, KH;
  uint KW, SH, SW, PH;
  uint PW;
  float eps;
} p;

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint OW4 = (p.OW + 3) / 4;
  const uint tile_w = id % OW4;
  const uint row = id / OW4;  // n * OH + oh
  if (row >= p.N * p.OH) return;
  const uint oh = row % p.OH, n = row / p.OH;
  const uint ow0 = tile_w * 4;
  const uint KH = SPEC_KH != 0 ? SPEC_KH : p.KH, KW = SPEC_KW != 0 ? SPEC_KW : p.KW;
  const uint SW = SPEC_SW != 0 ? SPEC_SW : p.SW;
  const uint columns = 3 * SW + KW;

  float shift[4], sum[4], sum_squares[4];
  [[unroll]] for (uint i = 0; i < 4; ++i) shift[i] = 0.0, sum[i] = 0.0, sum_squares[i] = 0.0;
  for (uint tile_c = 0; tile_c < p.C4; ++tile_c) {
    vec4 acc[4];
    [[unroll]] for (uint i = 0; i < 4; ++i) acc[i] = bias[tile_c];
    [[unroll]] for (uint kh = 0; kh < KH; ++kh) {
      const int ih = int(oh * p.SH + kh) - int(p.PH);
      if (ih < 0 || ih >= int(p.H)) continue;
      const uint row_base = (n * p.H + uint(ih)) * p.W;
      [[unroll]] for (uint column = 0; column < columns; ++column) {
        const int iw = int(ow0 * SW + column) - int(p.PW);
        if (iw < 0 || iw >= int(p.W)) continue;
        const vec4 v = texelFetch(x4, int((row_base + uint(iw)) * p.C4 + tile_c));
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          const int kw = int(column) - int(i * SW);
          if (kw >= 0 && kw < int(KW)) acc[i] += v * texelFetch(w, int((kh * KW + uint(kw)) * p.C4 + tile_c));
        }
      }
    }
    [[unroll]] for (uint i = 0; i < 4; ++i) {
      if (tile_c == 0) shift[i] = acc[i].x;
      const vec4 d = acc[i] - shift[i];
      sum[i] += d.x + d.y + d.z + d.w;
      sum_squares[i] += dot(d, d);
      if (ow0 + i < p.OW) y[(row * p.OW + ow0 + i) * p.C4 + tile_c] = acc[i];
    }
  }
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    if (ow0 + i >= p.OW) break;
    const float mean_shifted = sum[i] / float(p.C);
    const float inv_std = inversesqrt(max(sum_squares[i] / float(p.C) - mean_shifted * mean_shifted, 0.0) + p.eps);
    const uint base = (row * p.OW + ow0 + i) * p.C4;
    for (uint tile_c = 0; tile_c < p.C4; ++tile_c)
      y[base + tile_c] = ((y[base + tile_c] - shift[i]) - mean_shifted) * inv_std * affine[tile_c] + affine[p.C4 + tile_c];
  }
}
