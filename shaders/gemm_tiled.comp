#version 450
// Y[M,N] = activation(X[M,K] * W[K,N] + bias[N]) (+ residual[M,N]): the GPU-class GEMM family.
// A workgroup of 256 invocations owns a 64x64 output tile; each K step of 16 stages a 64x16 slice of X
// and a 16x64 slice of W in shared memory (8 KiB, within every device's 16 KiB minimum), so each
// operand is read from global memory once per tile instead of once per 4x4 sub-tile. Each invocation
// accumulates a 4x4 sub-tile in registers. On GPUs (subgroups of 32/64, fast shared memory) this is
// what pays; on lavapipe shared-memory loads are emulated lane by lane and gemm.comp's texel path wins
// (LAVAPIPE.md), so the plan picks per device. Same weight layout as gemm.comp: [K, N4*4].
// NORMALIZE_ROWS: X is first LayerNorm-ed per row, with the norm's affine folded into W and bias at
// load (graph/passes.h fold_layer_norm_into_linear), so the norm costs no dispatch and no extra pass
// over X. X is staged minus its row's first value s, each invocation sums its 4 rows' staged values
// and their squares as it reads them (one pass; the shift keeps E[a^2] - E[a]^2 from cancelling when
// |mean| >> std), and the epilogue applies
//   LN(x) W = rstd * (sum_k (x_k - s) W_k - (mean - s) * colsum(W)) + bias.
// bias holds N4 vec4s of bias, then N4 of colsum(W).
// INPUT_SCALE: X's columns are scaled per image as they are staged, X[m, k] * input_scale[image(m), k]
// (ConvNeXt V2's GRN, ops/grn.h); not with NORMALIZE_ROWS.
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "gemm_tiled_abi.h"
layout(local_size_x = GEMM_TILED_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "activation.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const int ACTIVATION = ACTIVATION_NONE;
layout(constant_id = 1) const bool HAS_RESIDUAL = false;
layout(constant_id = 2) const bool NORMALIZE_ROWS = false;
layout(constant_id = 3) const bool INPUT_SCALE = false;
layout(constant_id = 4) const bool HAS_GATE = false;  // Y *= gate[M, N] after the activation

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_SCALAR w[]; };
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) writeonly buffer Output { float y[]; };
layout(binding = 4) readonly buffer Residual { float residual[]; };
layout(binding = 5) readonly buffer InputScale { float input_scale[]; };  // INPUT_SCALE: [images, K]
layout(binding = 6) readonly buffer Gate { float gate[]; };                // HAS_GATE: [M, N]

const uint TILE = GEMM_TILED_TILE, STEP = GEMM_TILED_STEP;
// Column-major slices: a_tile[k][m / 4] holds X[m .. m+3][k], b_tile[k][n / 4] holds W[k][n .. n+3],
// so the inner loop reads one vec4 of each per k.
shared vec4 a_tile[STEP][TILE / 4];
shared vec4 b_tile[STEP][TILE / 4];
shared float row_shift[TILE];  // NORMALIZE_ROWS: each tile row's first value

void main() {
  const uint tile = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (tile >= p.tiles) return;  // uniform per workgroup: no barrier is skipped by only some invocations
  const uint m_base = (tile / p.tiles_n) * TILE, n_base = (tile % p.tiles_n) * TILE;
  const uint t = gl_LocalInvocationID.x;
  const uint tm = t / (TILE / 4), tn = t % (TILE / 4);  // this invocation's 4x4 sub-tile
  const uint padded_n = p.N4 * 4;

  vec4 acc[4];
  [[unroll]] for (uint i = 0; i < 4; ++i) acc[i] = vec4(0.0);
  vec4 row_sum = vec4(0.0), row_squares = vec4(0.0);  // this invocation's 4 rows
  if (NORMALIZE_ROWS) {
    if (t < TILE) row_shift[t] = m_base + t < p.M ? x[(m_base + t) * p.K] : 0.0;
    barrier();
  }

  for (uint k0 = 0; k0 < p.K; k0 += STEP) {
    // 256 invocations stage 64 x 16 values of X (one row quad per invocation: m = 4 * (t % 16) ...)
    // and 16 x 64 of W (one column quad each). Out-of-range values are zero.
    {
      const uint kk = t / (TILE / 4), quad = t % (TILE / 4);
      const uint k = k0 + kk;
      vec4 a = vec4(0.0);
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const uint m = m_base + quad * 4 + i;
        if (m < p.M && k < p.K)
          a[i] = NORMALIZE_ROWS ? x[m * p.K + k] - row_shift[quad * 4 + i]
                 : INPUT_SCALE  ? x[m * p.K + k] * input_scale[(m / p.rows_per_image) * p.K + k]
                                : x[m * p.K + k];
      }
      a_tile[kk][quad] = a;
      vec4 b = vec4(0.0);
      const uint n = n_base + quad * 4;
      if (k < p.K && n < padded_n) b = vec4(float(w[k * padded_n + n]), float(w[k * padded_n + n + 1]),
                                             float(w[k * padded_n + n + 2]), float(w[k * padded_n + n + 3]));
      b_tile[kk][quad] = b;
    }
    barrier();
    [[unroll]] for (uint kk = 0; kk < STEP; ++kk) {
      const vec4 a = a_tile[kk][tm], b = b_tile[kk][tn];
      [[unroll]] for (uint i = 0; i < 4; ++i) acc[i] += a[i] * b;
      if (NORMALIZE_ROWS) {
        row_sum += a;
        row_squares += a * a;
      }
    }
    barrier();
  }

  const uint n0 = n_base + tn * 4;
  if (n0 >= padded_n) return;
  const vec4 b = bias[n0 / 4];
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    const uint m = m_base + tm * 4 + i;
    if (m >= p.M) break;
    vec4 sum = acc[i] + b;
    if (NORMALIZE_ROWS) {
      const float shifted_mean = row_sum[i] / float(p.K);
      const float variance = max(row_squares[i] / float(p.K) - shifted_mean * shifted_mean, 0.0);
      sum = (acc[i] - shifted_mean * bias[p.N4 + n0 / 4]) * inversesqrt(variance + p.eps) + b;
    }
    const vec4 value = activate(sum, ACTIVATION);
    [[unroll]] for (uint j = 0; j < 4; ++j) {
      const uint n = n0 + j;
      if (n >= p.N) continue;
      const float gated = HAS_GATE ? value[j] * gate[m * p.N + n] : value[j];
      y[m * p.N + n] = HAS_RESIDUAL ? gated + residual[m * p.N + n] : gated;
    }
  }
}
