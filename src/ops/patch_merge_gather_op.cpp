// PatchMergeGather (Swin PatchMerging's 2x2 gather): [N, H, W, C] -> [N, ceil(H/2), ceil(W/2), 4C],
// odd maps padded with zeros. Usually a pass moves it into the LayerNorm or Linear reading it.
// Kernel: ops/patch_merge_gather.h.
#include "ir/shape_checks.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "ops/patch_merge_gather.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  ir::expect_feature_map(layer, x);
  return ir::Shape{x[0], (x[1] + 1) / 2, (x[2] + 1) / 2, 4 * x[3]};
}

vk::Dispatch lower(const Lowering& l) {
  const ir::Shape& in = l.input;
  return patch_merge_gather(l.info, uint32_t(in[0]), uint32_t(in[1]), uint32_t(in[2]), uint32_t(in[3]),
                            l.main_input(), l.result());
}

}  // namespace

extern const OpTraits patch_merge_gather_op = weightless_op(ir::OpKind::PatchMergeGather, infer_shape, lower);

}  // namespace vkvision::ops
