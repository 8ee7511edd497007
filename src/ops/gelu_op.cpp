// Gelu, element by element, in PyTorch's exact erf form. Usually a pass makes it its producer's
// epilogue (Epilogues::activation). Kernel: ops/elementwise.h.
#include "ops/elementwise_op.h"

namespace vkvision::ops {

extern const OpTraits gelu_op =
    weightless_op(ir::OpKind::Gelu, same_shape, lower_elementwise<ElementwiseMode::Gelu>);

}  // namespace vkvision::ops
