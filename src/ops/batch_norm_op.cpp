// BatchNorm in its inference form on the last axis: weight, bias, running_mean, running_var [C], eps.
// No kernel: the passes turn it into a ChannelAffine (ir::batchnorm_to_affine) and mostly fold that
// into a neighbouring layer; the executor refuses one that reaches it.
#include "ir/shape_checks.h"
#include "ops/op_traits.h"
#include "vk/program.h"
#include "vkvision/error.h"

namespace vkvision::ops {

extern const OpTraits batch_norm_op{
    .kind = ir::OpKind::BatchNorm,
    .name = "batch_norm",
    .epilogues = {},
    .infer_shape =
        [](const ir::Layer& layer, std::span<const ir::Shape> in) {
          for (const char* role : {"weight", "bias", "running_mean", "running_var"})
            ir::expect_vector(layer, role, in[0].back());
          return in[0];
        },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = no_parameters,
    .reads_half_weights = no_half_weights,
    .lower = [](const Lowering&) -> vk::Dispatch {
      throw Error("internal: BatchNorm reached the plan unconverted");
    },
};

}  // namespace vkvision::ops
