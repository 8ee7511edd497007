// Activations a kernel epilogue can apply; values match ACTIVATION_* in shaders/include/activation.glsl.
#pragma once
#include <cstdint>

namespace vkvision::ops {

enum class Activation : int32_t { None = 0, Gelu = 1, Relu = 2, Sigmoid = 3 };

inline const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::Gelu: return "gelu";
    case Activation::Relu: return "relu";
    case Activation::Sigmoid: return "sigmoid";
    default: return "none";
  }
}

}  // namespace vkvision::ops
