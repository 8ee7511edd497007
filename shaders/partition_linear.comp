#version 450
// RepMLP's partition FC (fc3, a 1x1 conv with groups S over rows of S*ph*pw): for every patch and
// channel c of shareset s = c % S,
//   y[i] = (scale[c] * sum_j W[s][i][j] x[j] + shift[c] * rowsum(W[s][i]) + bias[s][i]) * gate[n, c']
//          + residual
// where i, j are positions in the patch and scale/shift is the BatchNorm folded from before the FC
// (W (scale x + shift) = scale W x + shift W 1). The result is placed as the reference places it
// (partition.glsl), at channel c'; gate and residual are read there. Reads and writes the NHWC map in
// place: no partition copies.
//
// One invocation per (shareset, 4 * QUADS positions i, 4 columns), a column being one (image, patch,
// channel group) of that shareset; columns of one patch are its channel groups, next to each other.
// Each input value is loaded once for all 4 * QUADS positions and each weight vec4 once for all
// 4 columns (loads bound this on lavapipe; see gemm.comp). W is packed [S][j][round_up(ph*pw, 4)]
// so 4 positions are one vec4 load. Measured on lavapipe (repmlpnet_t224's 12 partition FCs,
// batch 1): 1 position quad, positions fastest 604 ms; 4 quads 444 ms; 4 quads, columns fastest 273 ms.
// fp16 weights (weight_types.glsl):
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "partition_linear_abi.h"
layout(local_size_x = PARTITION_LINEAR_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "partition.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const bool HAS_GATE = false;
layout(constant_id = 1) const bool HAS_RESIDUAL = false;

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_VEC4 weight[]; };  // [S][hw][hw4] as vec4
layout(binding = 2) readonly buffer BiasRowsum { float bias[]; };  // bias [S][hw4*4] | rowsum [S][hw4*4]
layout(binding = 3) readonly buffer Affine { float affine[]; };    // scale [C] | shift [C]
layout(binding = 4) readonly buffer Gate { float gate[]; };        // [N, C]
layout(binding = 5) readonly buffer Residual { float residual[]; };
layout(binding = 6) writeonly buffer Output { float y[]; };

const uint QUADS = PARTITION_LINEAR_QUADS;

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint quad_groups = (p.hw4 + QUADS - 1) / QUADS;
  // Columns vary fastest: neighbouring invocations share the weights (RepMLP's early FCs hold tens of
  // MB of them, which must stream from memory once, not once per column group).
  const uint column4 = id % p.column4, quad_group = (id / p.column4) % quad_groups,
             s = id / (quad_groups * p.column4);
  if (s >= p.S) return;
  const uint hw = p.ph * p.pw, groups = p.C / p.S, parts_w = p.W / p.pw;
  const uint parts = (p.H / p.ph) * parts_w, per_image = parts * groups;
  // Input offset of position 0 of each column's patch; columns past the end repeat the last one.
  uint base[4];
  [[unroll]] for (uint t = 0; t < 4; ++t) {
    const uint column = min(column4 * 4 + t, p.columns - 1), rest = column % per_image;
    base[t] = patch_offset(column / per_image, rest / groups, 0, (rest % groups) * p.S + s, p.H, p.W, p.C,
                           p.ph, p.pw, parts_w);
  }
  // Position quads past hw4 repeat the last one (in bounds) and are not stored.
  uint quad[QUADS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) quad[q] = min(quad_group * QUADS + q, p.hw4 - 1);
  vec4 acc[4 * QUADS];
  [[unroll]] for (uint a = 0; a < 4 * QUADS; ++a) acc[a] = vec4(0.0);
  uint j = 0;
  for (uint jy = 0; jy < p.ph; ++jy) {
    for (uint jx = 0; jx < p.pw; ++jx, ++j) {
      const uint offset = (jy * p.W + jx) * p.C;
      vec4 w[QUADS];
      [[unroll]] for (uint q = 0; q < QUADS; ++q) w[q] = vec4(weight[(s * hw + j) * p.hw4 + quad[q]]);
      [[unroll]] for (uint t = 0; t < 4; ++t) {
        const float value = x[base[t] + offset];
        [[unroll]] for (uint q = 0; q < QUADS; ++q) acc[QUADS * t + q] += value * w[q];
      }
    }
  }
  [[unroll]] for (uint t = 0; t < 4; ++t) {
    const uint column = column4 * 4 + t;
    if (column >= p.columns) break;
    const uint n = column / per_image, rest = column % per_image, group = rest % groups, c = group * p.S + s;
    const uvec2 target = unpartitioned(rest / groups, group, parts, groups);
    const uint c_out = target.y * p.S + s;
    const float scale = affine[c], shift = affine[p.C + c];
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      [[unroll]] for (uint e = 0; e < 4; ++e) {
        const uint i = (quad_group * QUADS + q) * 4 + e;
        if (i >= hw) break;
        const uint row = s * p.hw4 * 4 + i;
        float value = scale * acc[QUADS * t + q][e] + shift * bias[p.S * p.hw4 * 4 + row] + bias[row];
        const uint destination = patch_offset(n, target.x, i, c_out, p.H, p.W, p.C, p.ph, p.pw, parts_w);
        if (HAS_GATE) value *= gate[n * p.C + c_out];
        if (HAS_RESIDUAL) value += residual[destination];
        y[destination] = value;
      }
    }
  }
}
