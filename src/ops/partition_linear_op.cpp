// PartitionLinear (RepMLP's partition FC): over partition_h x partition_w patches, channel c using
// shareset c % groups: weight [S*h*w, h*w], bias [S*h*w] (optional), an input affine input_scale,
// input_shift [C] (optional). Inputs {x, gate [N, C] when `gate`, residual when `residual`}; the
// output placed as the reference's un-partition places it (shaders/include/partition.glsl).
// Epilogues: a residual (and the gate, set by ir::fuse_channel_gate). Kernel: ops/partition_linear.h.
#include "ir/shape_checks.h"
#include "ops/half_weights.h"
#include "ops/layer_shapes.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "ops/partition_linear.h"

namespace vkvision::ops {

// The patch and shareset checks PartitionLinear and PartitionConv share (partition_conv_op.cpp).
void expect_partitions(const ir::Layer& layer, const ir::Shape& x) {
  ir::expect_feature_map(layer, x);
  const int64_t ph = layer.partition_h, pw = layer.partition_w, sharesets = layer.groups;
  if (ph == 0 || pw == 0 || x[1] % ph != 0 || x[2] % pw != 0)
    ir::shape_error(layer, "partitions of " + std::to_string(ph) + "x" + std::to_string(pw) +
                               " do not tile the " + std::to_string(x[1]) + "x" + std::to_string(x[2]) +
                               " feature map (input size)");
  if (sharesets == 0 || x.back() % sharesets != 0)
    ir::shape_error(
        layer, std::to_string(sharesets) + " sharesets do not divide the width " + std::to_string(x.back()));
}

std::string partition_attributes(const ir::Layer& layer) {
  return " partition " + std::to_string(layer.partition_h) + "x" + std::to_string(layer.partition_w) +
         " sharesets " + std::to_string(layer.groups);
}

namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  expect_partitions(layer, x);
  const int64_t ph = layer.partition_h, pw = layer.partition_w, sharesets = layer.groups, channels = x.back();
  ir::expect_param_shape(layer, "weight", {sharesets * ph * pw, ph * pw});
  ir::expect_vector(layer, "bias", sharesets * ph * pw, true);
  ir::expect_vector(layer, "input_scale", channels, true);
  ir::expect_vector(layer, "input_shift", channels, true);
  if (layer.gate && (in.size() < 2 || in[1] != ir::Shape{x[0], channels}))
    ir::shape_error(layer, "gate input is not [N, C] = " + ir::shape_string({x[0], channels}));
  return x;
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape& input) {
  const PartitionShape shape = partition_shape(layer, input);
  const std::span<const float> weight = parameter_values(layer, "weight");
  return {pack_partition_weight(weight, shape),
          pack_partition_bias(parameter_values(layer, "bias"), weight, shape),
          pack_partition_affine(parameter_values(layer, "input_scale"),
                                parameter_values(layer, "input_shift"), shape.c)};
}

vk::Dispatch lower(const Lowering& l) {
  PartitionLinearBuffers buffers{.input = l.main_input(),
                                 .weight = l.parameter(0),
                                 .bias_rowsum = l.parameter(1),
                                 .affine = l.parameter(2),
                                 .output = l.result()};
  if (l.layer.gate) buffers.gate = l.tensor(l.layer.inputs[1]);
  buffers.residual = l.residual();
  return partition_linear(l.info, partition_shape(l.layer, l.input), buffers, l.half_weights);
}

}  // namespace

extern const OpTraits partition_linear_op{
    .kind = ir::OpKind::PartitionLinear,
    .name = "partition_linear",
    .epilogues = {.residual = true},
    .infer_shape = infer_shape,
    .attributes = partition_attributes,
    .gflop =
        [](const ir::Layer& layer, const ir::Shape&, const ir::Shape& out) {
          return 2.0 * double(ir::shape_numel(out)) * layer.partition_h * layer.partition_w * 1e-9;
        },
    .pack = pack,
    .reads_half_weights = [](const KernelQuery& q) { return half_weights_supported(q.info, false); },
    .lower = lower,
};

}  // namespace vkvision::ops
