// ChannelGate: inputs[0] [N, H, W, C] * inputs[1] [N, C] (RepMLP's global perceptron). Usually
// ir::fuse_channel_gate makes it the gate epilogue of the PartitionLinear before it.
// Kernel: ops/elementwise.h.
#include "ir/shape_checks.h"
#include "ops/elementwise_op.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  if (x.size() != 4 || in.size() != 2 || in[1] != ir::Shape{x[0], x.back()})
    ir::shape_error(layer, "gates a [N,H,W,C] map by [N,C], got " + ir::shape_string(x) + " and " +
                               (in.size() > 1 ? ir::shape_string(in[1]) : "nothing"));
  return x;
}

}  // namespace

extern const OpTraits channel_gate_op =
    weightless_op(ir::OpKind::ChannelGate, infer_shape, lower_elementwise<ElementwiseMode::ChannelGate>);

}  // namespace vkvision::ops
