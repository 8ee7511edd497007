// Lowering shared by the traits of the elementwise ops (gelu_op.cpp, relu_op.cpp, add_op.cpp,
// channel_gate_op.cpp): one dispatch of shaders/elementwise.comp over the output.
#pragma once
#include "ops/elementwise.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {

// `mode` of inputs[0] and, for binary modes, inputs[1] (which a per-image vector repeats over the
// pixels of for ChannelGate).
template <ElementwiseMode mode>
vk::Dispatch lower_elementwise(const Lowering& l) {
  const auto count = static_cast<uint32_t>(ir::shape_numel(l.input));
  if constexpr (mode == ElementwiseMode::Gelu || mode == ElementwiseMode::Relu) {
    return elementwise(l.info, mode, count, 1, l.main_input(), l.main_input(), l.result());
  } else if constexpr (mode == ElementwiseMode::Add || mode == ElementwiseMode::Multiply) {
    return elementwise(l.info, mode, count, 1, l.main_input(), l.tensor(l.layer.inputs[1]), l.result());
  } else {
    static_assert(mode == ElementwiseMode::ChannelGate);
    const ir::Shape& in = l.input;
    return elementwise(l.info, mode, count, uint32_t(in[3]), l.main_input(), l.tensor(l.layer.inputs[1]),
                       l.result(), uint32_t(in[1] * in[2] * in[3]));
  }
}

}  // namespace vkvision::ops
