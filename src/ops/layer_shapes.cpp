#include "ops/layer_shapes.h"

#include "ir/shape_checks.h"

namespace vkvision::ops {

using ir::Layer;
using ir::Shape;

Conv2dShape conv2d_shape(const Layer& layer, const Shape& in) {
  const auto& weight = layer.param("weight").shape;
  return {.n = static_cast<uint32_t>(in[0]),
          .ih = static_cast<uint32_t>(layer.input_nchw ? in[2] : in[1]),
          .iw = static_cast<uint32_t>(layer.input_nchw ? in[3] : in[2]),
          .ic = static_cast<uint32_t>(layer.input_nchw ? in[1] : in[3]),
          .oc = static_cast<uint32_t>(weight[0]),
          .kh = layer.kernel_h,
          .kw = layer.kernel_w,
          .sh = layer.stride_h,
          .sw = layer.stride_w,
          .ph = layer.pad_h,
          .pw = layer.pad_w,
          .groups = layer.groups,
          .input_nchw = layer.input_nchw,
          .ceil_mode = layer.ceil_mode};
}

GemmShape gemm_shape(const Shape& in, const Shape& out) {
  const auto k = static_cast<uint32_t>(in.back()), n = static_cast<uint32_t>(out.back());
  return {static_cast<uint32_t>(ir::shape_numel(in) / k), n, k};
}

PartitionShape partition_shape(const Layer& layer, const Shape& in) {
  return {.n = uint32_t(in[0]),
          .h = uint32_t(in[1]),
          .w = uint32_t(in[2]),
          .c = uint32_t(in[3]),
          .ph = layer.partition_h,
          .pw = layer.partition_w,
          .sharesets = layer.groups};
}

Shape infer_convolution_shape(const Layer& layer, const Shape& x, bool depthwise) {
  int64_t n = x[0], c, h, w;
  if (layer.input_nchw)
    c = x[1], h = x[2], w = x[3];
  else if (x.size() == 4)
    h = x[1], w = x[2], c = x[3];
  else
    ir::shape_error(layer, "expects a feature map, got " + ir::shape_string(x));
  const ir::HostTensor& weight = layer.param("weight");
  if (weight.shape.size() != 4)
    ir::shape_error(layer, "weight has shape " + ir::shape_string(weight.shape) + ", expected 4-D");
  const int64_t oc = weight.shape[0];
  const uint32_t groups = depthwise ? static_cast<uint32_t>(c) : layer.groups;
  if (groups == 0 || c % groups != 0 || oc % groups != 0)
    ir::shape_error(layer, "groups " + std::to_string(groups) + " do not divide channels " +
                               std::to_string(c) + " -> " + std::to_string(oc));
  ir::expect_param_shape(layer, "weight", {oc, c / groups, layer.kernel_h, layer.kernel_w});
  ir::expect_vector(layer, "bias", oc, true);
  if (layer.fused_layer_norm) {
    ir::expect_vector(layer, "norm_weight", oc);
    ir::expect_vector(layer, "norm_bias", oc);
  }
  const int64_t end_h = layer.ceil_mode ? layer.stride_h - 1 : 0,
                end_w = layer.ceil_mode ? layer.stride_w - 1 : 0;
  const int64_t oh = (h + 2 * layer.pad_h + end_h - layer.kernel_h) / layer.stride_h + 1;
  const int64_t ow = (w + 2 * layer.pad_w + end_w - layer.kernel_w) / layer.stride_w + 1;
  if (h + 2 * static_cast<int64_t>(layer.pad_h) < layer.kernel_h ||
      w + 2 * static_cast<int64_t>(layer.pad_w) < layer.kernel_w || oh <= 0 || ow <= 0)
    ir::shape_error(layer,
                    "input " + std::to_string(h) + "x" + std::to_string(w) + " is smaller than the kernel");
  return {n, oh, ow, oc};
}

std::string convolution_attributes(const Layer& layer) {
  return " " + std::to_string(layer.kernel_h) + "x" + std::to_string(layer.kernel_w) + "/s" +
         std::to_string(layer.stride_h) + " pad " + std::to_string(layer.pad_h) +
         (layer.ceil_mode ? " ceil" : "") +
         (layer.groups > 1 ? " groups " + std::to_string(layer.groups) : "");
}

double convolution_gflop(const Layer& layer, const Shape&, const Shape& output) {
  const auto& weight = layer.param("weight").shape;
  return 2.0 * static_cast<double>(ir::shape_numel(output)) * weight[1] * weight[2] * weight[3] * 1e-9;
}

}  // namespace vkvision::ops
