#include "exec/kernel_passes.h"

#include "ops/depthwise_conv2d.h"
#include "ops/layer_shapes.h"
#include "ops/window_attention.h"

namespace vkvision::exec {

ir::PassPipeline kernel_family_passes(const DeviceInfo& info, KernelFamily family, uint32_t batch,
                                      uint32_t height, uint32_t width) {
  ir::PassPipeline passes = {{"batchnorm_to_affine", ir::batchnorm_to_affine}};
  if (family == KernelFamily::SharedTiled) {
    passes.push_back({"fold_layer_norm_into_linear", ir::fold_layer_norm_into_linear});
    passes.push_back({"fuse_attention_projection", [=](const ir::LayerList& list) {
                        const auto shapes = ir::infer_shapes(list, batch, height, width);
                        return ir::fuse_attention_projection(list, [&](const ir::Layer& attention) {
                          const auto channels = uint32_t(shapes.at(attention.output).back());
                          return ops::attention_projection_query_tile(info, channels) > 0;
                        });
                      }});
  } else {
    passes.push_back({"fuse_depthwise_layer_norm", [=](const ir::LayerList& list) {
                        const auto shapes = ir::infer_shapes(list, batch, height, width);
                        return ir::fuse_depthwise_layer_norm(list, [&](const ir::Layer& layer) {
                          return !layer.input_nchw &&
                                 ops::depthwise_layer_norm_supported(
                                     info, ops::conv2d_shape(layer, shapes.at(layer.inputs[0])));
                        });
                      }});
    passes.push_back({"defer_layer_norm_to_linear", ir::defer_layer_norm_to_linear});
  }
  return passes;
}

}  // namespace vkvision::exec
