// MeanPool: [N, H, W, C] -> [N, C], the mean over the pixels. Kernel: ops/mean_pool.h.
#include "ir/shape_checks.h"
#include "ops/lowering.h"
#include "ops/mean_pool.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  ir::expect_feature_map(layer, in[0]);
  return ir::Shape{in[0][0], in[0][3]};
}

vk::Dispatch lower(const Lowering& l) {
  const ir::Shape& in = l.input;
  return mean_pool(l.info, uint32_t(in[0]), uint32_t(in[1] * in[2]), uint32_t(in[3]), l.main_input(),
                   l.result());
}

}  // namespace

extern const OpTraits mean_pool_op = weightless_op(ir::OpKind::MeanPool, infer_shape, lower);

}  // namespace vkvision::ops
