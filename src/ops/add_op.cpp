// Add: inputs[0] + inputs[1], of one shape. Usually a pass makes it a residual epilogue, or merges
// the branches it adds (RepVGG, RepMLP). Kernel: ops/elementwise.h.
#include "ir/shape_checks.h"
#include "ops/elementwise.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {

extern const OpTraits add_op{
    .kind = ir::OpKind::Add,
    .name = "add",
    .epilogues = {},
    .infer_shape =
        [](const ir::Layer& layer, std::span<const ir::Shape> in) {
          if (in.size() != 2 || in[0] != in[1]) ir::shape_error(layer, "adds tensors of different shapes");
          return in[0];
        },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          return elementwise(l.info, ElementwiseMode::Add, static_cast<uint32_t>(ir::shape_numel(l.input)), 1,
                             l.main_input(), l.tensor(l.layer.inputs[1]), l.result());
        },
};

}  // namespace vkvision::ops
