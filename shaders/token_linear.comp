#version 450
// Token mixing (MLP-Mixer, ResMLP, gMLP, gMixer): per image b, the GEMM over the token axis of an
// NHWC map read and written in place, tokens the H*W pixels in row-major order:
//   acc[b, t', c] = sum_t W[t', t] x[b, t, c]          W [T_out, T_in] (PyTorch Linear on tokens)
//   y = act(alpha[c] acc + beta[c] rowsum(W)[t'] + bias[t']) * out_scale[c] * gate[b, t', c]
//       + residual[b, t', c]
// every term optional (a specialisation constant each; absent: not read). alpha, beta are a
// per-channel affine of the input folded through the product: W (alpha x + beta) = alpha W x +
// beta rowsum(W), rowsum computed at pack time.
// Register-blocked as gemm.comp with the roles swapped (W is the row operand, x the column one):
// each invocation owns ROWS output tokens x QUADS channel quads. Per step of 4 input tokens it loads
// the 4 x QUADS x vec4s once and reuses them for all ROWS tokens, then one vec4 of W per token row
// (W packed [T_out, T4 * 4], rows zero-padded to a multiple of 4) reused for all QUADS quads.
//
// Two operand paths from this one source:
//   token_linear:        x in a storage buffer read as scalars, each index clamped to the last
//                        element (any C: the quads of a C not a multiple of 4 reach past a token's
//                        channels, and past the buffer at its end; those lanes are never stored).
//   token_linear_texel:  x and W through RGBA32F uniform texel buffers (C a multiple of 4).
// @variant token_linear_texel -DTEXEL_OPERANDS=1
// fp16 weights (weight_types.glsl): the storage path as token_linear_half_weights; token_linear_texel
// reads them unchanged through an RGBA16F view. The row sums stay fp32.
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "token_linear_abi.h"
layout(local_size_x = TOKEN_LINEAR_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "activation.glsl"
#include "weight_types.glsl"

layout(constant_id = 0) const int ACTIVATION = ACTIVATION_NONE;
layout(constant_id = 1) const bool HAS_RESIDUAL = false;
layout(constant_id = 2) const bool HAS_BIAS = false;
layout(constant_id = 3) const bool HAS_INPUT_SCALE = false;
layout(constant_id = 4) const bool HAS_INPUT_SHIFT = false;
layout(constant_id = 5) const bool HAS_OUTPUT_SCALE = false;
layout(constant_id = 6) const bool HAS_GATE = false;

#if TEXEL_OPERANDS
layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w;
// index: (b * T_in + t) * C + 4 * quad, a multiple of 4 here.
#define LOAD_X4(index) texelFetch(x4, int((index) >> 2))
#define LOAD_W(index) texelFetch(w, int(index))
#else
layout(binding = 0) readonly buffer Input { float x_data[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_VEC4 w_data[]; };
#define LOAD_X(index) x_data[min(index, p.x_last)]
#define LOAD_X4(index) vec4(LOAD_X(index), LOAD_X((index) + 1), LOAD_X((index) + 2), LOAD_X((index) + 3))
#define LOAD_W(index) vec4(w_data[index])
#endif
layout(binding = 2) readonly buffer TokenParameters { float token_parameters[]; };  // bias, rowsum [T_out]
layout(binding = 3) readonly buffer ChannelParameters { vec4 channel_parameters[]; };  // alpha, beta, scale
layout(binding = 4) writeonly buffer Output { float y[]; };
layout(binding = 5) readonly buffer Gate { float gate[]; };
layout(binding = 6) readonly buffer Residual { float residual[]; };

const uint ROWS = TOKEN_LINEAR_ROWS, QUADS = TOKEN_LINEAR_QUADS;

// One step of 4 input tokens: each token row's W vec4 (at vec4 column `w_column`) times the 4 x QUADS
// x vec4s in xt, into that row's QUADS accumulators.
#define ACCUMULATE_ROWS(w_column)                                                              \
  [[unroll]] for (uint i = 0; i < ROWS; ++i) {                                                 \
    const vec4 a = LOAD_W(w_row[i] + (w_column));                                              \
    [[unroll]] for (uint q = 0; q < QUADS; ++q) acc[QUADS * i + q] +=                          \
        a.x * xt[4 * q] + a.y * xt[4 * q + 1] + a.z * xt[4 * q + 2] + a.w * xt[4 * q + 3];     \
  }

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint b = id / p.tiles, tile = id % p.tiles;
  if (b >= p.batch) return;
  const uint column_groups = (p.C4 + QUADS - 1) / QUADS;
  const uint t0 = (tile / column_groups) * ROWS, group = tile % column_groups;
  if (t0 >= p.T_out) return;
  // Token rows past T_out and quads past C4 read the last valid one and are not stored.
  uint quad[QUADS], w_row[ROWS];
  [[unroll]] for (uint q = 0; q < QUADS; ++q) quad[q] = min(QUADS * group + q, p.C4 - 1);
  [[unroll]] for (uint i = 0; i < ROWS; ++i) w_row[i] = min(t0 + i, p.T_out - 1) * p.T4;
  vec4 acc[ROWS * QUADS];
  [[unroll]] for (uint i = 0; i < ROWS * QUADS; ++i) acc[i] = vec4(0.0);
  uint x_row = b * p.T_in * p.C;  // (b * T_in + t) * C: strength-reduced
  uint t = 0;
  for (; t + 4 <= p.T_in; t += 4, x_row += 4 * p.C) {
    vec4 xt[4 * QUADS];
    [[unroll]] for (uint j = 0; j < 4; ++j)
      [[unroll]] for (uint q = 0; q < QUADS; ++q) xt[4 * q + j] = LOAD_X4(x_row + j * p.C + 4 * quad[q]);
    ACCUMULATE_ROWS(t >> 2);
  }
  // The last T_in % 4 tokens (their W vec4 is read once; its padding past T_in is zero).
  if (t < p.T_in) {
    vec4 xt[4 * QUADS];
    [[unroll]] for (uint j = 0; j < 4; ++j)
      [[unroll]] for (uint q = 0; q < QUADS; ++q)
        xt[4 * q + j] = t + j < p.T_in ? LOAD_X4(x_row + j * p.C + 4 * quad[q]) : vec4(0.0);
    ACCUMULATE_ROWS(t >> 2);
  }
  const uint out_image = b * p.T_out * p.C;
  [[unroll]] for (uint i = 0; i < ROWS; ++i) {
    const uint token = t0 + i;
    if (token >= p.T_out) break;
    const float bias = HAS_BIAS ? token_parameters[token] : 0.0;
    const float rowsum = HAS_INPUT_SHIFT ? token_parameters[p.T_out + token] : 0.0;
    [[unroll]] for (uint q = 0; q < QUADS; ++q) {
      vec4 sum = acc[QUADS * i + q];
      if (HAS_INPUT_SCALE) sum *= channel_parameters[quad[q]];
      if (HAS_INPUT_SHIFT) sum += channel_parameters[p.C4 + quad[q]] * rowsum;
      vec4 value = activate(sum + bias, ACTIVATION);
      if (HAS_OUTPUT_SCALE) value *= channel_parameters[2 * p.C4 + quad[q]];
      const uint c0 = (QUADS * group + q) * 4;
      [[unroll]] for (uint j = 0; j < 4; ++j) {
        const uint c = c0 + j;
        if (c >= p.C) break;
        const uint index = out_image + token * p.C + c;
        float v = value[j];
        if (HAS_GATE) v *= gate[index];
        if (HAS_RESIDUAL) v += residual[index];
        y[index] = v;
      }
    }
  }
}
