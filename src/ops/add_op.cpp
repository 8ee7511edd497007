// Add: inputs[0] + inputs[1], of one shape. Usually a pass makes it a residual epilogue, or merges
// the branches it adds (RepVGG, RepMLP). Kernel: ops/elementwise.h.
#include "ir/shape_checks.h"
#include "ops/elementwise_op.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  if (in.size() != 2 || in[0] != in[1]) ir::shape_error(layer, "adds tensors of different shapes");
  return in[0];
}

}  // namespace

extern const OpTraits add_op =
    weightless_op(ir::OpKind::Add, infer_shape, lower_elementwise<ElementwiseMode::Add>);

}  // namespace vkvision::ops
