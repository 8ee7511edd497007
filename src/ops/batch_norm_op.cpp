// BatchNorm in its inference form on the last axis: weight, bias, running_mean, running_var [C], eps.
// No kernel: the passes turn it into a ChannelAffine (ir::batchnorm_to_affine) and mostly fold that
// into a neighbouring layer; the executor refuses one that reaches it.
#include "ir/shape_checks.h"
#include "ops/op_traits.h"
#include "vk/program.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  for (const char* role : {"weight", "bias", "running_mean", "running_var"})
    ir::expect_vector(layer, role, in[0].back());
  return in[0];
}

vk::Dispatch refuse(const Lowering&) { throw Error("internal: BatchNorm reached the plan unconverted"); }

}  // namespace

// Never lowered, so nothing to pack.
extern const OpTraits batch_norm_op = weightless_op(ir::OpKind::BatchNorm, infer_shape, refuse);

}  // namespace vkvision::ops
