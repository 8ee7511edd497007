// PartitionConv (RepMLP's local perceptron): a KxK convolution within each patch (zero padding at
// patch borders), weight [S, 1, KH, KW], bias [S] (optional); output placed as PartitionLinear's.
// Usually ir::inject_locality merges it into the PartitionLinear beside it. Kernel: ops/partition_conv.h.
#include "ir/shape_checks.h"
#include "ops/layer_shapes.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "ops/partition_conv.h"

namespace vkvision::ops {

void expect_partitions(const ir::Layer& layer, const ir::Shape& x);  // partition_linear_op.cpp
std::string partition_attributes(const ir::Layer& layer);            // partition_linear_op.cpp

namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  expect_partitions(layer, in[0]);
  if (layer.kernel_h % 2 == 0 || layer.kernel_w % 2 == 0 || layer.pad_h != layer.kernel_h / 2 ||
      layer.pad_w != layer.kernel_w / 2)
    ir::shape_error(layer, "kernel must be odd with padding kernel / 2");
  ir::expect_param_shape(layer, "weight", {layer.groups, 1, layer.kernel_h, layer.kernel_w});
  ir::expect_vector(layer, "bias", layer.groups, true);
  return in[0];
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  const std::span<const float> weight = parameter_values(layer, "weight");
  std::vector<float> bias(layer.groups, 0.0f);
  if (layer.has_param("bias"))
    bias.assign(layer.param("bias").values(), layer.param("bias").values() + layer.groups);
  return {std::vector<float>(weight.begin(), weight.end()), bias};
}

}  // namespace

extern const OpTraits partition_conv_op{
    .kind = ir::OpKind::PartitionConv,
    .name = "partition_conv",
    .epilogues = {},
    .infer_shape = infer_shape,
    .attributes =
        [](const ir::Layer& layer) {
          return partition_attributes(layer) + " kernel " + std::to_string(layer.kernel_h) + "x" +
                 std::to_string(layer.kernel_w);
        },
    .gflop =
        [](const ir::Layer& layer, const ir::Shape&, const ir::Shape& out) {
          return 2.0 * double(ir::shape_numel(out)) * layer.kernel_h * layer.kernel_w * 1e-9;
        },
    .pack = pack,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          return partition_conv(l.info, partition_shape(l.layer, l.input), l.layer.kernel_h, l.layer.kernel_w,
                                l.main_input(), l.parameter(0), l.parameter(1), l.result());
        },
};

}  // namespace vkvision::ops
