#version 450
// Y[M,N] = activation(X[M,K] * W[K,N] + bias[N]) (+ residual[M,N]).
// ROW_STATISTICS: X is LayerNorm-ed per row by statistics its producer computed (row_statistics:
// mean and 1/std per row, from depthwise_conv2d_layer_norm.comp), the norm's affine folded into W and
// bias at load; the epilogue applies LN(x) W = rstd * (x W - mean * colsum(W)) + bias, with bias
// holding N4 vec4s of bias then N4 of colsum(W). No extra load of X and no per-element work.
// INPUT_SCALE: X's columns are scaled per image first, X[m, k] * input_scale[image(m), k] (ConvNeXt V2's
// GRN, ops/grn.h). Each tile's rows lie in one image, so the scale multiplies the tile's weight vec4s
// once per K step instead of every row's X.
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
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "gemm_abi.h"
layout(local_size_x = GEMM_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "activation.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const int ACTIVATION = ACTIVATION_NONE;
layout(constant_id = 1) const bool HAS_RESIDUAL = false;
layout(constant_id = 2) const bool ROW_STATISTICS = false;
layout(constant_id = 3) const bool INPUT_SCALE = false;
layout(constant_id = 4) const bool HAS_GATE = false;  // Y *= gate[M, N] after the activation

#if TEXEL_OPERANDS
layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w;
#define LOAD_X4(index) texelFetch(x4, int(index))
#define LOAD_W(index) texelFetch(w, int(index))
#else
// Scalars, so that no load reaches past the end of X when M * K is not a multiple of 4.
layout(binding = 0) readonly buffer Input { float x_data[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_VEC4 w_data[]; };
#define LOAD_X4(index) \
  vec4(x_data[4 * (index)], x_data[4 * (index) + 1], x_data[4 * (index) + 2], x_data[4 * (index) + 3])
#define LOAD_W(index) vec4(w_data[index])
#endif
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) writeonly buffer Output { float y[]; };
layout(binding = 4) readonly buffer Residual { float residual[]; };
layout(binding = 5) readonly buffer RowStatistics { vec2 row_statistics[]; };  // ROW_STATISTICS: [M]
layout(binding = 6) readonly buffer InputScale { float input_scale[]; };       // INPUT_SCALE: [images, K]
layout(binding = 7) readonly buffer Gate { float gate[]; };                     // HAS_GATE: [M, N]

// Each invocation owns a tile of ROWS x (4 * QUADS) outputs. Per step of 4 along K it loads the
// 4 x QUADS weight vec4s once and reuses them for all ROWS rows, then loads one vec4 of X per row
// and reuses it for all QUADS column quads. On lavapipe every load is a gather across the SIMD
// lanes and costs far more than an FMA, so the tile is sized to amortise loads, not to fit the
// accumulators in registers (they spill to L1, which is cheap by comparison). Measured on lavapipe
// (convnext_tiny's linears, batch 1): 4x4 outputs 16-18 GFLOP/s, 16x8 30, 16x12 35, 12x16 37.
const uint ROWS = GEMM_ROWS, QUADS = GEMM_QUADS;

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint column_groups = (p.N4 + QUADS - 1) / QUADS;
  const uint tile_m = id / column_groups, group = id % column_groups;
  const uint image = tile_m / p.tiles_per_image;
  const uint m0 = image * p.rows_per_image + (tile_m % p.tiles_per_image) * ROWS;
  const uint m_end = min((image + 1) * p.rows_per_image, p.M);  // this tile's image's rows end here
  if (m0 >= m_end) return;
  const uint scale_row = image * p.K;
  // Rows past the image and column quads past N4 read the last valid one (always in bounds) and are
  // not stored.
  uint quad[QUADS], row[ROWS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) quad[q] = min(QUADS * group + q, p.N4 - 1);
  [[unroll]] for (uint i = 0; i < ROWS; ++i) row[i] = min(m0 + i, m_end - 1) * p.K;
  vec4 acc[ROWS * QUADS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) {
    const vec4 b = ROW_STATISTICS ? vec4(0.0) : bias[quad[q]];
    [[unroll]] for (uint i = 0; i < ROWS; ++i) acc[QUADS * i + q] = b;
  }
  uint k = 0;
  if ((p.K & 3u) == 0) {
    uint w_row = 0;  // k * N4: strength-reduced, the loop's only index arithmetic
    for (; k < p.K; k += 4, w_row += 4 * p.N4) {
      vec4 wk[4 * QUADS];
      [[unroll]] for (uint q = 0; q < QUADS; ++q)
        [[unroll]] for (uint j = 0; j < 4; ++j) wk[4 * q + j] = LOAD_W(w_row + j * p.N4 + quad[q]);
      if (INPUT_SCALE) {
        const uint s = scale_row + k;
        const vec4 scale = vec4(input_scale[s], input_scale[s + 1], input_scale[s + 2], input_scale[s + 3]);
        [[unroll]] for (uint q = 0; q < QUADS; ++q)
          [[unroll]] for (uint j = 0; j < 4; ++j) wk[4 * q + j] *= scale[j];
      }
      [[unroll]] for (uint i = 0; i < ROWS; ++i) {
        const vec4 a = LOAD_X4((row[i] + k) >> 2);
        [[unroll]] for (uint q = 0; q < QUADS; ++q)
          acc[QUADS * i + q] +=
              a.x * wk[4 * q] + a.y * wk[4 * q + 1] + a.z * wk[4 * q + 2] + a.w * wk[4 * q + 3];
      }
    }
  }
#if !TEXEL_OPERANDS
  for (; k < p.K; ++k) {
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      const vec4 w = LOAD_W(k * p.N4 + quad[q]) * (INPUT_SCALE ? input_scale[scale_row + k] : 1.0);
      [[unroll]] for (uint i = 0; i < ROWS; ++i) acc[QUADS * i + q] += x_data[row[i] + k] * w;
    }
  }
#endif
  // ROW_STATISTICS: each column quad's bias and weight sum, loaded once for all rows.
  vec4 column_bias[QUADS], column_sum[QUADS];
  if (ROW_STATISTICS) {
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      column_bias[q] = bias[quad[q]];
      column_sum[q] = bias[p.N4 + quad[q]];
    }
  }
  [[unroll]] for (uint i = 0; i < ROWS; ++i) {
    const uint m = m0 + i;
    if (m >= m_end) break;
    const vec2 statistics = ROW_STATISTICS ? row_statistics[m] : vec2(0.0, 1.0);
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      vec4 sum = acc[QUADS * i + q];
      if (ROW_STATISTICS) sum = (sum - statistics.x * column_sum[q]) * statistics.y + column_bias[q];
      const vec4 value = activate(sum, ACTIVATION);
      const uint n0 = (QUADS * group + q) * 4;
      [[unroll]] for (uint j = 0; j < 4; ++j) {
        const uint n = n0 + j;
        if (n >= p.N) continue;
        const float gated = HAS_GATE ? value[j] * gate[m * p.N + n] : value[j];
        y[m * p.N + n] = HAS_RESIDUAL ? gated + residual[m * p.N + n] : gated;
      }
    }
  }
}
