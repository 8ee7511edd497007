// MeanPool: [N, H, W, C] -> [N, C], the mean over the pixels. Kernel: ops/mean_pool.h.
#include "ir/shape_checks.h"
#include "ops/lowering.h"
#include "ops/mean_pool.h"
#include "ops/op_traits.h"

namespace vkvision::ops {

extern const OpTraits mean_pool_op{
    .kind = ir::OpKind::MeanPool,
    .name = "mean_pool",
    .epilogues = {},
    .infer_shape =
        [](const ir::Layer& layer, std::span<const ir::Shape> in) {
          ir::expect_feature_map(layer, in[0]);
          return ir::Shape{in[0][0], in[0][3]};
        },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          return mean_pool(l.info, static_cast<uint32_t>(l.input[0]),
                           static_cast<uint32_t>(l.input[1] * l.input[2]), static_cast<uint32_t>(l.input[3]),
                           l.main_input(), l.result());
        },
};

}  // namespace vkvision::ops
