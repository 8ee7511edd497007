#version 450
// InceptionNeXt's token mixer (InceptionDWConv2d) in one dispatch on NHWC, without materialising
// the reference's split and concat: channels [0, I) are copied through, and the three branches of
// G channels each that follow are depthwise convolutions with their own kernel shape,
//   [I, I+G)      KS x KS  (pad KS/2)
//   [I+G, I+2G)   1 x KB   (pad 0, KB/2)
//   [I+2G, I+3G)  KB x 1   (pad KB/2, 0)
// all stride 1, so the output has the input's shape (the reference concatenates them).
// Each invocation computes one channel of 4 horizontally adjacent output pixels; neighbouring
// invocations take neighbouring channels, so loads of one pixel's channels are contiguous. A
// 4-channel vec4 tile (as in depthwise_conv2d.comp) would straddle branch boundaries, which sit
// at arbitrary channel offsets (I = C - 3 * int(C / 8)).
// Weights: [KS*KS][G] (square), then [KB][G] (1 x KB), then [KB][G] (KB x 1); bias [3G].
// fp16 weights (weight_types.glsl):
// @half_weights
#extension GL_GOOGLE_include_directive : require
#include "inception_depthwise_conv2d_abi.h"
layout(local_size_x = INCEPTION_DEPTHWISE_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "weight_types.glsl"

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Weight { WEIGHT_SCALAR w[]; };
layout(binding = 2) readonly buffer Bias { float bias[]; };
layout(binding = 3) writeonly buffer Output { float y[]; };

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  const uint W4 = (p.W + 3) / 4;
  const uint c = id % p.C;
  const uint tile = (id / p.C) % W4;
  const uint row = id / (p.C * W4);  // n * H + h
  if (row >= p.N * p.H) return;
  const uint h = row % p.H, n = row / p.H;
  const uint w0 = tile * 4;
  const uint pixels = min(4u, p.W - w0);

  if (c < p.I) {
    for (uint i = 0; i < pixels; ++i) {
      const uint index = (row * p.W + w0 + i) * p.C + c;
      y[index] = x[index];
    }
    return;
  }
  const uint branch = (c - p.I) / p.G, lane = (c - p.I) % p.G;
  uint kh = p.KS, kw = p.KS, base = 0;
  if (branch == 1) {
    kh = 1;
    kw = p.KB;
    base = p.KS * p.KS * p.G;
  } else if (branch == 2) {
    kh = p.KB;
    kw = 1;
    base = (p.KS * p.KS + p.KB) * p.G;
  }
  const int ph = int(kh / 2), pw = int(kw / 2);

  float acc[4];
  [[unroll]] for (uint i = 0; i < 4; ++i) acc[i] = bias[branch * p.G + lane];
  // Walk the input columns of each kernel row once, adding each into every output that uses it.
  const uint columns = 3 + kw;
  for (uint r = 0; r < kh; ++r) {
    const int ih = int(h + r) - ph;
    if (ih < 0 || ih >= int(p.H)) continue;
    const uint row_base = (n * p.H + uint(ih)) * p.W;
    for (uint column = 0; column < columns; ++column) {
      const int iw = int(w0 + column) - pw;
      if (iw < 0 || iw >= int(p.W)) continue;
      const float v = x[(row_base + uint(iw)) * p.C + c];
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const int k = int(column) - int(i);
        if (k >= 0 && k < int(kw)) acc[i] += v * float(w[base + (r * kw + uint(k)) * p.G + lane]);
      }
    }
  }
  for (uint i = 0; i < pixels; ++i) y[(row * p.W + w0 + i) * p.C + c] = acc[i];
}
