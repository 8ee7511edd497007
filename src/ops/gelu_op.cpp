// Gelu, element by element, in PyTorch's exact erf form. Usually a pass makes it
// its producer's epilogue (Epilogues::activation). Kernel: ops/elementwise.h.
#include "ops/elementwise.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {

extern const OpTraits gelu_op{
    .kind = ir::OpKind::Gelu,
    .name = "gelu",
    .epilogues = {},
    .infer_shape = [](const ir::Layer&, std::span<const ir::Shape> in) { return in[0]; },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          return elementwise(l.info, ElementwiseMode::Gelu, static_cast<uint32_t>(ir::shape_numel(l.input)),
                             1, l.main_input(), l.main_input(), l.result());
        },
};

}  // namespace vkvision::ops
