#version 450
// Y[M,N] = activation(X[M,K] * W[K,N] + bias[N]) (+ residual[M,N]).
// Register-blocked: each invocation owns a 12 x 16 output tile (see ROWS, QUADS below). W is
// pre-transposed to [K, N4*4] (N padded to a multiple of 4) at load so 4 columns are one vec4 load.
//
// Two operand paths from this one source:
//   gemm:        X and W in storage buffers; any K.
//   gemm_texel:  X and W read through RGBA32F uniform texel buffers (K a multiple of 4). On lavapipe a
//                texel fetch is branch-free and about 4x cheaper per float than a storage load.
// @variant gemm_texel -DTEXEL_OPERANDS=1
// fp16 weights (weight_types.glsl): the storage path as gemm_half_weights; gemm_texel reads them
// unchanged through an RGBA16F view.
// @variant gemm_half_weights -DHALF_WEIGHTS=1
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"
#include "activation.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const int ACTIVATION = ACTIVATION_NONE;
layout(constant_id = 1) const bool HAS_RESIDUAL = false;

#if TEXEL_OPERANDS
layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w;
#define LOAD_X4(index) texelFetch(x4, int(index))
#define LOAD_W(index) texelFetch(w, int(index))
#else
// Scalars, so that no load reaches past the end of X when M * K is not a multiple of 4.
layout(binding = 0) readonly buffer Input { float x_data[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_VEC4 w_data[]; };
#define LOAD_X4(index) vec4(x_data[4 * (index)], x_data[4 * (index) + 1], x_data[4 * (index) + 2], x_data[4 * (index) + 3])
#define LOAD_W(index) vec4(w_data[index])
#endif
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) writeonly buffer Output { float y[]; };
layout(binding = 4) readonly buffer Residual { float residual[]; };

layout(push_constant) uniform Params {
  uint M;
  uint N;
  uint K;
  uint N4;  // N rounded up to 4, divided by 4: the number of column tiles
} p;

// Each invocation owns a tile of ROWS x (4 * QUADS) outputs. Per step of 4 along K it loads the
// 4 x QUADS weight vec4s once and reuses them for all ROWS rows, then loads one vec4 of X per row
// and reuses it for all QUADS column quads. On lavapipe every load is a gather across the SIMD
// lanes and costs far more than an FMA, so the tile is sized to amortise loads, not to fit the
// accumulators in registers (they spill to L1, which is cheap by comparison). Measured on lavapipe
// (convnext_tiny's linears, batch 1): 4x4 outputs 16-18 GFLOP/s, 16x8 30, 16x12 35, 12x16 37.
const uint ROWS = 12, QUADS = 4;

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint column_groups = (p.N4 + QUADS - 1) / QUADS;
  const uint tile_m = id / column_groups, group = id % column_groups;
  const uint m0 = tile_m * ROWS;
  if (m0 >= p.M) return;
  // Rows past M and column quads past N4 read the last valid one (always in bounds) and are not stored.
  uint quad[QUADS], row[ROWS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) quad[q] = min(QUADS * group + q, p.N4 - 1);
  [[unroll]] for (uint i = 0; i < ROWS; ++i) row[i] = min(m0 + i, p.M - 1) * p.K;
  vec4 acc[ROWS * QUADS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) {
    const vec4 b = bias[quad[q]];
    [[unroll]] for (uint i = 0; i < ROWS; ++i) acc[QUADS * i + q] = b;
  }
  uint k = 0;
  if ((p.K & 3u) == 0) {
    uint w_row = 0;  // k * N4: strength-reduced, the loop's only index arithmetic
    for (; k < p.K; k += 4, w_row += 4 * p.N4) {
      vec4 wk[4 * QUADS];
      [[unroll]] for (uint q = 0; q < QUADS; ++q)
        [[unroll]] for (uint j = 0; j < 4; ++j) wk[4 * q + j] = LOAD_W(w_row + j * p.N4 + quad[q]);
      [[unroll]] for (uint i = 0; i < ROWS; ++i) {
        const vec4 a = LOAD_X4((row[i] + k) >> 2);
        [[unroll]] for (uint q = 0; q < QUADS; ++q)
          acc[QUADS * i + q] += a.x * wk[4 * q] + a.y * wk[4 * q + 1] + a.z * wk[4 * q + 2] + a.w * wk[4 * q + 3];
      }
    }
  }
#if !TEXEL_OPERANDS
  for (; k < p.K; ++k) {
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      const vec4 w = LOAD_W(k * p.N4 + quad[q]);
      [[unroll]] for (uint i = 0; i < ROWS; ++i) acc[QUADS * i + q] += x_data[row[i] + k] * w;
    }
  }
#endif
  [[unroll]] for (uint i = 0; i < ROWS; ++i) {
    const uint m = m0 + i;
    if (m >= p.M) break;
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      const vec4 value = activate(acc[QUADS * i + q], ACTIVATION);
      const uint n0 = (QUADS * group + q) * 4;
      [[unroll]] for (uint j = 0; j < 4; ++j) {
        const uint n = n0 + j;
        if (n < p.N) y[m * p.N + n] = HAS_RESIDUAL ? value[j] + residual[m * p.N + n] : value[j];
      }
    }
  }
}
