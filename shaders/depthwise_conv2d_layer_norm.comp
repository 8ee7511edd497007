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
layout(local_size_x = 8) in;  // WORKGROUP below
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

// Channel groups per tile (a power of two up to the workgroup size): the invocations of a tile split
// its channels, so a late-stage map (7x7x768: 7 tiles) still spreads over several threads; each group
// keeps statistics of its own channels and the tile combines them (Chan et al.'s pairwise update, so
// the combination stays exact however far the means lie from 0). The host picks the fewest groups
// that give the dispatch enough invocations: splitting costs a barrier and the combination.
layout(constant_id = 3) const uint GROUPS = 1;
const uint WORKGROUP = 8;
shared float group_mean[WORKGROUP * PIXELS], group_m2[WORKGROUP * PIXELS];

uint quads_of_group(uint group) { return group < p.C4 ? (p.C4 - group + GROUPS - 1) / GROUPS : 0; }

void main() {
  const uint tiles_w = (p.OW + PIXELS - 1) / PIXELS;
  const uint workgroup = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  const uint local = gl_LocalInvocationID.x, group = local % GROUPS, first_local = local - group;
  const uint tile = workgroup * (WORKGROUP / GROUPS) + local / GROUPS;
  // Invocations past the last tile do no work but still reach the barrier.
  const bool in_range = tile < p.N * p.OH * tiles_w;
  const uint tile_w = tile % tiles_w;
  const uint row = tile / tiles_w;  // n * OH + oh
  const uint oh = row % p.OH, n = row / p.OH;
  const uint ow0 = tile_w * PIXELS;
  // Group g takes channel quads g, g + GROUPS, ...: at each step the lanes of a tile read neighbouring
  // quads (contiguous texels) rather than quads a group's width apart.
  const uint c_begin = group, c_end = in_range ? p.C4 : 0;

  float shift[PIXELS], sum[PIXELS], sum_squares[PIXELS];
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) shift[i] = 0.0, sum[i] = 0.0, sum_squares[i] = 0.0;
  for (uint tile_c = c_begin; tile_c < c_end; tile_c += GROUPS) {
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
      if (tile_c == c_begin) shift[i] = acc[i].x;
      const vec4 d = acc[i] - shift[i];
      sum[i] += d.x + d.y + d.z + d.w;
      sum_squares[i] += dot(d, d);
      if (ow0 + i < p.OW) y[(row * p.OW + ow0 + i) * p.C4 + tile_c] = acc[i];
    }
  }
  // This group's mean and sum of squared deviations per pixel (about its own shift: no cancellation).
  const float count = float(4 * quads_of_group(group));
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
    group_mean[local * PIXELS + i] = count > 0.0 ? shift[i] + sum[i] / count : 0.0;
    group_m2[local * PIXELS + i] = count > 0.0 ? max(sum_squares[i] - sum[i] * sum[i] / count, 0.0) : 0.0;
  }
  barrier();
  if (!in_range) return;
  [[unroll]] for (uint i = 0; i < PIXELS; ++i) {
    if (ow0 + i >= p.OW) break;
    float mean = 0.0;
    for (uint g = 0; g < GROUPS; ++g)
      mean += float(4 * quads_of_group(g)) * group_mean[(first_local + g) * PIXELS + i];
    mean /= float(p.C);
    float m2 = 0.0;
    for (uint g = 0; g < GROUPS; ++g) {
      const float deviation = group_mean[(first_local + g) * PIXELS + i] - mean;
      m2 += group_m2[(first_local + g) * PIXELS + i] + float(4 * quads_of_group(g)) * deviation * deviation;
    }
    const float inv_std = inversesqrt(m2 / float(p.C) + p.eps);
    const uint base = (row * p.OW + ow0 + i) * p.C4;
    for (uint tile_c = c_begin; tile_c < c_end; tile_c += GROUPS)
      y[base + tile_c] = (y[base + tile_c] - mean) * inv_std * affine[tile_c] + affine[p.C4 + tile_c];
  }
}
