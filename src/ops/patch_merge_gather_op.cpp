// PatchMergeGather (Swin PatchMerging's 2x2 gather): [N, H, W, C] -> [N, ceil(H/2), ceil(W/2), 4C],
// odd maps padded with zeros. Usually a pass moves it into the LayerNorm or Linear reading it.
// Kernel: ops/patch_merge_gather.h.
#include "ir/shape_checks.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "ops/patch_merge_gather.h"

namespace vkvision::ops {

extern const OpTraits patch_merge_gather_op{
    .kind = ir::OpKind::PatchMergeGather,
    .name = "patch_merge_gather",
    .epilogues = {},
    .infer_shape =
        [](const ir::Layer& layer, std::span<const ir::Shape> in) {
          const ir::Shape& x = in[0];
          ir::expect_feature_map(layer, x);
          return ir::Shape{x[0], (x[1] + 1) / 2, (x[2] + 1) / 2, 4 * x[3]};
        },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          return patch_merge_gather(l.info, uint32_t(l.input[0]), uint32_t(l.input[1]), uint32_t(l.input[2]),
                                    uint32_t(l.input[3]), l.main_input(), l.result());
        },
};

}  // namespace vkvision::ops
