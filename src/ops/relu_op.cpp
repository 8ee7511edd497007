// Relu, element by element. Usually a pass makes it its producer's epilogue (Epilogues::activation).
// Kernel: ops/elementwise.h.
#include "ops/elementwise_op.h"

namespace vkvision::ops {

extern const OpTraits relu_op =
    weightless_op(ir::OpKind::Relu, same_shape, lower_elementwise<ElementwiseMode::Relu>);

}  // namespace vkvision::ops
