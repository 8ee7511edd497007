// SpatialL2Norm: [N, H, W, C] -> [N, C], each channel's L2 norm over the pixels (ConvNeXt V2's GRN
// statistics, ops/grn.h).
#include "ir/shape_checks.h"
#include "ops/grn.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  ir::expect_feature_map(layer, in[0]);
  return ir::Shape{in[0][0], in[0][3]};
}

vk::Dispatch lower(const Lowering& l) {
  const ir::Shape& in = l.input;
  return spatial_l2_norm(l.info, uint32_t(in[0]), uint32_t(in[1] * in[2]), uint32_t(in[3]), l.main_input(),
                         l.result());
}

}  // namespace

// Two operations (multiply, add) per input element.
extern const OpTraits spatial_l2_norm_op{
    .kind = ir::OpKind::SpatialL2Norm,
    .name = "spatial_l2_norm",
    .epilogues = {},
    .infer_shape = infer_shape,
    .attributes = no_attributes,
    .gflop = [](const ir::Layer&, const ir::Shape& input,
                const ir::Shape&) { return 2.0 * double(ir::shape_numel(input)) * 1e-9; },
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
