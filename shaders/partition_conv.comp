#version 450
// RepMLP's local perceptron (repconv{k}: a KxK conv with groups S on each (S, ph, pw) patch, padding
// K / 2): a depthwise conv that sees zeros beyond its patch's borders; channel c uses the kernel of
// shareset c % S. Its result is placed as the partition FC's (partition.glsl) so the two add up as
// in the reference. Only unconverted layer lists run this: locality injection folds it into the FC.
// One invocation per input element, neighbouring channels next to each other.
#extension GL_GOOGLE_include_directive : require
#include "partition_conv_abi.h"
layout(local_size_x = PARTITION_CONV_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "partition.glsl"

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Weight { float weight[]; };  // [S, KH, KW]
layout(binding = 2) readonly buffer Bias { float bias[]; };      // [S]
layout(binding = 3) writeonly buffer Output { float y[]; };

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  if (id >= p.N * p.H * p.W * p.C) return;
  const uint c = id % p.C, col = (id / p.C) % p.W, row = (id / (p.C * p.W)) % p.H, n = id / (p.C * p.W * p.H);
  const uint s = c % p.S, groups = p.C / p.S, parts_w = p.W / p.pw, parts = (p.H / p.ph) * parts_w;
  const uint part = (row / p.ph) * parts_w + col / p.pw, py = row % p.ph, px = col % p.pw;
  const int pad_h = int(p.kh / 2), pad_w = int(p.kw / 2);
  float acc = bias[s];
  for (uint ky = 0; ky < p.kh; ++ky) {
    const int sy = int(py + ky) - pad_h;
    if (sy < 0 || sy >= int(p.ph)) continue;
    for (uint kx = 0; kx < p.kw; ++kx) {
      const int sx = int(px + kx) - pad_w;
      if (sx < 0 || sx >= int(p.pw)) continue;
      const uint source_row = row - py + uint(sy), source_col = col - px + uint(sx);
      acc += weight[(s * p.kh + ky) * p.kw + kx] * x[((n * p.H + source_row) * p.W + source_col) * p.C + c];
    }
  }
  const uvec2 target = unpartitioned(part, c / p.S, parts, groups);
  y[patch_offset(n, target.x, py * p.pw + px, target.y * p.S + s, p.H, p.W, p.C, p.ph, p.pw, parts_w)] = acc;
}
