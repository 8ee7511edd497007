// Relu, element by element. Usually a pass makes it
// its producer's epilogue (Epilogues::activation). Kernel: ops/elementwise.h.
#include "ops/elementwise.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {

extern const OpTraits relu_op{
    .kind = ir::OpKind::Relu,
    .name = "relu",
    .epilogues = {},
    .infer_shape = [](const ir::Layer&, std::span<const ir::Shape> in) { return in[0]; },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          return elementwise(l.info, ElementwiseMode::Relu, static_cast<uint32_t>(ir::shape_numel(l.input)),
                             1, l.main_input(), l.main_input(), l.result());
        },
};

}  // namespace vkvision::ops
