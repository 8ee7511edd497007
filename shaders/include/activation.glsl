// GLSL has no erf. Abramowitz & Stegun 7.1.26 has 1.5e-7 absolute error: below fp32 rounding of
// the GELU output for the magnitudes networks produce, so this matches PyTorch's exact (erf) GELU.
float erf_approx(float x) {
  float t = 1.0 / (1.0 + 0.3275911 * abs(x));
  float poly =
      t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  float y = 1.0 - poly * exp(-x * x);
  return x < 0.0 ? -y : y;
}

// PyTorch's nn.GELU() default: x * 0.5 * (1 + erf(x / sqrt(2))).
float gelu(float x) { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }

vec4 gelu(vec4 v) { return vec4(gelu(v.x), gelu(v.y), gelu(v.z), gelu(v.w)); }

#include "activation_abi.h"
const int ACTIVATION_NONE = ACTIVATION_ID_NONE;
const int ACTIVATION_GELU = ACTIVATION_ID_GELU;
const int ACTIVATION_RELU = ACTIVATION_ID_RELU;
const int ACTIVATION_SIGMOID = ACTIVATION_ID_SIGMOID;
const int ACTIVATION_SILU = ACTIVATION_ID_SILU;

vec4 activate(vec4 v, int activation) {
  if (activation == ACTIVATION_GELU) return gelu(v);
  if (activation == ACTIVATION_RELU) return max(v, vec4(0.0));
  if (activation == ACTIVATION_SIGMOID) return 1.0 / (1.0 + exp(-v));
  // PyTorch's nn.SiLU: x * sigmoid(x).
  if (activation == ACTIVATION_SILU) return v / (1.0 + exp(-v));
  return v;
}
