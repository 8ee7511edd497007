#version 450
// Depthwise convolution followed by LayerNorm over channels (ConvNeXt's dwconv -> norm), fused so
// the un-normalised map never makes a round trip between two dispatches. Each invocation owns PIXELS
// horizontally adjacent output pixels and walks all their channels, 4 at a time, loading each input
// column and weight once for all of them; it keeps the one-pass statistics (sum and sum of squares about
// the first channel, as layer_norm.comp) and then normalises its own pixels in place. Input and
// weights are RGBA32F texel buffers, so C must be a multiple of 4 (the host falls back otherwise);
// fp16 weights are read unchanged through an RGBA16F view.
// Parallelism is one invocation per PIXELS pixels: right for lavapipe's few wide cores; the plan
// keeps the unfused pair where this does not apply.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 16) in;
#include "common.glsl"

layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w;
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) buffer Output { vec4 y[]; };  // read back by the same invocation to normalise
layout(binding = 4) readonly buffer Affine { vec4 affine[]; };  // gamma[C] then beta[C]

// Kernel size and stride are specialisation constants (the host always sets them), so the tap loops
// unroll with every tap-to-output mapping resolved at compile time and the input columns of a row
// fit a fixed-size array: lavapipe does not unroll loops with run-time bounds (LAVAPIPE.md).
layout(constant_id = 0) const uint KH = 7;
layout(constant_id = 1) const uint KW = 7;
layout(constant_id = 2) const uint SW = 1;
// Output pixels per invocation: each input column and each weight is loaded once and used for all
// of them (per row of taps: (PIXELS - 1) * SW + KW column loads and KW weight loads). Measured on
// lavapipe, convnext_tiny's 18 layers: 4 pixels 34 ms, 8 pixels 30 ms, 16 pixels 33 ms.
const uint PIXELS = 8;
const uint COLUMNS = (PIXELS - 1) * SW + KW;

layout(push_constant) uniform Params {
  uint N, H, W, C;
  uint OH, OW, C4, KH;
  uint KW, SH, SW, PH;
  uint PW;
  float eps;
} p;

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint tiles_w = (p.OW + PIXELS - 1) / PIXELS;
  const uint tile_w = id % tiles_w;
  const uint row = id / tiles_w;  // n * OH + oh
  if (row >= p.N * p.OH) return;
  const uint oh = row % p.OH, n = row / p.OH;
  const uint ow0 = tile_w * PIXELS;

  float shift[PIXELS], sum[PIXELS], sum_squares[PIXELS];
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) shift[i] = 0.0, sum[i] = 0.0, sum_squares[i] = 0.0;
  for (uint tile_c = 0; tile_c < p.C4; ++tile_c) {
    vec4 acc[PIXELS];
    [[unroll]] for (uint i = 0; i < PIXELS; ++i) acc[i] = bias[tile_c];
    [[unroll]] for (uint kh = 0; kh < KH; ++kh) {
      const int ih = int(oh * p.SH + kh) - int(p.PH);
      if (ih < 0 || ih >= int(p.H)) continue;
      const uint row_base = (n * p.H + uint(ih)) * p.W;
      vec4 columns[COLUMNS];
      [[unroll]] for (uint column = 0; column < COLUMNS; ++column) {
        const int iw = int(ow0 * SW + column) - int(p.PW);
        const bool inside = iw >= 0 && iw < int(p.W);
        const int index = inside ? int((row_base + uint(iw)) * p.C4 + tile_c) : 0;
        columns[column] = inside ? texelFetch(x4, index) : vec4(0.0);
      }
      [[unroll]] for (uint kw = 0; kw < KW; ++kw) {
        const vec4 weight = texelFetch(w, int((kh * KW + kw) * p.C4 + tile_c));
        [[unroll]] for (uint i = 0; i < PIXELS; ++i) acc[i] += columns[i * SW + kw] * weight;
      }
    }
    [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
      if (tile_c == 0) shift[i] = acc[i].x;
      const vec4 d = acc[i] - shift[i];
      sum[i] += d.x + d.y + d.z + d.w;
      sum_squares[i] += dot(d, d);
      if (ow0 + i < p.OW) y[(row * p.OW + ow0 + i) * p.C4 + tile_c] = acc[i];
    }
  }
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
    if (ow0 + i >= p.OW) break;
    const float mean_shifted = sum[i] / float(p.C);
    const float inv_std = inversesqrt(max(sum_squares[i] / float(p.C) - mean_shifted * mean_shifted, 0.0) + p.eps);
    const uint base = (row * p.OW + ow0 + i) * p.C4;
    for (uint tile_c = 0; tile_c < p.C4; ++tile_c)
      y[base + tile_c] = ((y[base + tile_c] - shift[i]) - mean_shifted) * inv_std * affine[tile_c] + affine[p.C4 + tile_c];
  }
}
