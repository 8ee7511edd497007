// Multiply: inputs[0] * inputs[1], of one shape (gMixer's gated channel MLP, x1 * silu(x2), where the
// Linear producing x1 has no gate epilogue). Kernel: ops/elementwise.h.
#include "ir/shape_checks.h"
#include "ops/elementwise_op.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  if (in.size() != 2 || in[0] != in[1]) ir::shape_error(layer, "multiplies tensors of different shapes");
  return in[0];
}

}  // namespace

extern const OpTraits multiply_op =
    weightless_op(ir::OpKind::Multiply, infer_shape, lower_elementwise<ElementwiseMode::Multiply>);

}  // namespace vkvision::ops
