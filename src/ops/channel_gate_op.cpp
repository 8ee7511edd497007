// ChannelGate: inputs[0] [N, H, W, C] * inputs[1] [N, C] (RepMLP's global perceptron). Usually
// ir::fuse_channel_gate makes it the gate epilogue of the PartitionLinear before it.
// Kernel: ops/elementwise.h.
#include "ir/shape_checks.h"
#include "ops/elementwise.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {

extern const OpTraits channel_gate_op{
    .kind = ir::OpKind::ChannelGate,
    .name = "channel_gate",
    .epilogues = {},
    .infer_shape =
        [](const ir::Layer& layer, std::span<const ir::Shape> in) {
          const ir::Shape& x = in[0];
          if (x.size() != 4 || in.size() != 2 || in[1] != ir::Shape{x[0], x.back()})
            ir::shape_error(layer, "gates a [N,H,W,C] map by [N,C], got " + ir::shape_string(x) + " and " +
                                       (in.size() > 1 ? ir::shape_string(in[1]) : "nothing"));
          return x;
        },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          const ir::Shape& in = l.input;
          return elementwise(l.info, ElementwiseMode::ChannelGate, uint32_t(ir::shape_numel(in)),
                             uint32_t(in[3]), l.main_input(), l.tensor(l.layer.inputs[1]), l.result(),
                             uint32_t(in[1] * in[2] * in[3]));
        },
};

}  // namespace vkvision::ops
