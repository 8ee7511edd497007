#version 450
// Y[M,N] = activation(X[M,K] * W[K,N] + bias[N]) (+ residual[M,N]).
// Register-blocked: each invocation owns a 4x4 output tile held in four vec4 accumulators (about
// 16 scalars, the sweet spot on lavapipe's 8-wide SIMD; see LAVAPIPE.md). W is pre-transposed to
// [K, N4*4] (N padded to a multiple of 4) at load so a row of the tile is one vec4 load.
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

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint tile_m = id / p.N4;
  const uint tile_n = id % p.N4;
  const uint m0 = tile_m * 4;
  if (m0 >= p.M) return;
  // Rows past M read the last row (always in bounds) and are not stored.
  const uint r0 = m0 * p.K;
  const uint r1 = min(m0 + 1, p.M - 1) * p.K;
  const uint r2 = min(m0 + 2, p.M - 1) * p.K;
  const uint r3 = min(m0 + 3, p.M - 1) * p.K;
  vec4 b = bias[tile_n];
  vec4 acc0 = b, acc1 = b, acc2 = b, acc3 = b;
  uint k = 0;
  if ((p.K & 3u) == 0) {
    for (; k < p.K; k += 4) {
      vec4 a0 = LOAD_X4((r0 + k) >> 2), a1 = LOAD_X4((r1 + k) >> 2), a2 = LOAD_X4((r2 + k) >> 2),
           a3 = LOAD_X4((r3 + k) >> 2);
      [[unroll]] for (uint j = 0; j < 4; ++j) {
        vec4 wk = LOAD_W((k + j) * p.N4 + tile_n);
        acc0 += a0[j] * wk;
        acc1 += a1[j] * wk;
        acc2 += a2[j] * wk;
        acc3 += a3[j] * wk;
      }
    }
  }
#if !TEXEL_OPERANDS
  for (; k < p.K; ++k) {
    vec4 wk = LOAD_W(k * p.N4 + tile_n);
    acc0 += x_data[r0 + k] * wk;
    acc1 += x_data[r1 + k] * wk;
    acc2 += x_data[r2 + k] * wk;
    acc3 += x_data[r3 + k] * wk;
  }
#endif
  vec4 acc[4] = vec4[4](activate(acc0, ACTIVATION), activate(acc1, ACTIVATION), activate(acc2, ACTIVATION),
                        activate(acc3, ACTIVATION));
  const uint n0 = tile_n * 4;
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    const uint m = m0 + i;
    if (m >= p.M) break;
    [[unroll]] for (uint j = 0; j < 4; ++j) {
      const uint n = n0 + j;
      if (n < p.N) {
        float value = acc[i][j];
        if (HAS_RESIDUAL) value += residual[m * p.N + n];
        y[m * p.N + n] = value;
      }
    }
  }
}
