#version 450
// The element-wise ops that passes normally fuse away. They stay so that an unfused layer list runs
// (the reference a pass is tested against) and for layers no fusion covers.
//   MODE_GELU:           y = gelu(a)
//   MODE_ADD:            y = a + b
//   MODE_CHANNEL_AFFINE: y = a * b[c] + b[C + c]  (layer scale, inference BatchNorm), c = i % C
//   MODE_CHANNEL_GATE:   y = a * b[n * C + c], n = i / image  (a per-image channel gate, b [N, C])
//   MODE_MULTIPLY:       y = a * b  (gMixer's gated channel MLP, x1 * silu(x2))
#extension GL_GOOGLE_include_directive : require
#include "elementwise_abi.h"
layout(local_size_x = ELEMENTWISE_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "activation.glsl"

const int MODE_GELU = ELEMENTWISE_MODE_GELU;
const int MODE_ADD = ELEMENTWISE_MODE_ADD;
const int MODE_CHANNEL_AFFINE = ELEMENTWISE_MODE_CHANNEL_AFFINE;
const int MODE_RELU = ELEMENTWISE_MODE_RELU;
const int MODE_CHANNEL_GATE = ELEMENTWISE_MODE_CHANNEL_GATE;
const int MODE_MULTIPLY = ELEMENTWISE_MODE_MULTIPLY;
layout(constant_id = 0) const int MODE = MODE_GELU;

layout(binding = 0) readonly buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
layout(binding = 2) writeonly buffer Output { float y[]; };

void main() {
  const uint i = LINEAR_INVOCATION_ID;
  if (i >= p.count) return;
  const float value = a[i];
  if (MODE == MODE_GELU) y[i] = gelu(value);
  else if (MODE == MODE_ADD) y[i] = value + b[i];
  else if (MODE == MODE_MULTIPLY) y[i] = value * b[i];
  else if (MODE == MODE_CHANNEL_AFFINE) y[i] = value * b[i % p.C] + b[p.C + i % p.C];
  else if (MODE == MODE_CHANNEL_GATE) y[i] = value * b[(i / p.image) * p.C + i % p.C];
  else y[i] = max(value, 0.0);
}
