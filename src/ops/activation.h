// Activations a kernel epilogue can apply (shaders/include/activation.glsl).
#pragma once
#include <cstdint>

#include "activation_abi.h"

namespace vkvision::ops {

enum class Activation : int32_t {
  None = ACTIVATION_ID_NONE,
  Gelu = ACTIVATION_ID_GELU,
  Relu = ACTIVATION_ID_RELU,
  Sigmoid = ACTIVATION_ID_SIGMOID,
  Silu = ACTIVATION_ID_SILU,  // x * sigmoid(x), PyTorch's nn.SiLU
};

inline const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::Gelu: return "gelu";
    case Activation::Relu: return "relu";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Silu: return "silu";
    default: return "none";
  }
}

}  // namespace vkvision::ops
