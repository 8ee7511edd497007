#include "graph/plan.h"

#include <cstring>

#include "graph/passes.h"
#include "graph/sub_batch.h"
#include "ops/conv2d.h"
#include "ops/depthwise_conv2d.h"
#include "ops/elementwise.h"
#include "ops/gemm.h"
#include "ops/half_weights.h"
#include "ops/inception_depthwise_conv2d.h"
#include "ops/layer_norm.h"
#include "ops/mean_pool.h"
#include "ops/partition_conv.h"
#include "ops/partition_linear.h"
#include "ops/patch_merge_gather.h"
#include "ops/spatial_mlp.h"
#include "ops/window_attention.h"
#include "vk/check.h"
#include "vk/timestamps.h"
#include "vkvision/error.h"

namespace vkvision::graph {
namespace {

ops::PartitionShape partition_shape(const Layer& layer, const Shape& in) {
  return {.n = uint32_t(in[0]), .h = uint32_t(in[1]), .w = uint32_t(in[2]), .c = uint32_t(in[3]),
          .ph = layer.partition_h, .pw = layer.partition_w, .sharesets = layer.groups};
}

// The shape a Conv2d or DepthwiseConv2d layer runs with (the network's first layer reads NCHW).
ops::Conv2dShape conv2d_shape(const Layer& layer, const Shape& in) {
  const auto& weight = layer.param("weight").shape;
  return {.n = static_cast<uint32_t>(in[0]),
          .ih = static_cast<uint32_t>(layer.input_nchw ? in[2] : in[1]),
          .iw = static_cast<uint32_t>(layer.input_nchw ? in[3] : in[2]),
          .ic = static_cast<uint32_t>(layer.input_nchw ? in[1] : in[3]),
          .oc = static_cast<uint32_t>(weight[0]),
          .kh = layer.kernel_h, .kw = layer.kernel_w, .sh = layer.stride_h, .sw = layer.stride_w,
          .ph = layer.pad_h, .pw = layer.pad_w, .groups = layer.groups,
          .input_nchw = layer.input_nchw, .ceil_mode = layer.ceil_mode};
}

ops::GemmShape gemm_shape(const Shape& in, const Shape& out) {
  const auto k = static_cast<uint32_t>(in.back()), n = static_cast<uint32_t>(out.back());
  return {static_cast<uint32_t>(shape_numel(in) / k), n, k};
}

// Whether the kernel chosen for `layer` can read its weight (parameter 0) as fp16 on this device:
// the texel paths through an RGBA16F view, the storage paths through 16-bit storage.
bool reads_half_weights(const Layer& layer, const Shape& in, const Shape& out, const DeviceInfo& info,
                        ops::GemmOperands gemm_operands) {
  switch (layer.op) {
    case OpKind::Conv2d:
      return ops::half_weights_supported(info, ops::conv2d_uses_texel_path(info, conv2d_shape(layer, in)));
    case OpKind::DepthwiseConv2d:
      return ops::half_weights_supported(
          info, layer.fused_layer_norm || ops::depthwise_conv2d_uses_texel_path(info, conv2d_shape(layer, in)));
    case OpKind::Linear:
      return ops::half_weights_supported(info, ops::gemm_uses_texel_path(info, gemm_shape(in, out), gemm_operands));
    case OpKind::InceptionDepthwise:
    case OpKind::PartitionLinear:
      return ops::half_weights_supported(info, false);
    default:
      return false;
  }
}

// Parameters of one layer in the layout its kernel reads, in binding order after the input.
std::vector<std::vector<float>> pack_layer(const Layer& layer, const Shape& input_shape) {
  auto bias_or_zero = [&](int64_t count) {
    return layer.has_param("bias") ? std::span<const float>(layer.param("bias").values(), count) : std::span<const float>();
  };
  switch (layer.op) {
    case OpKind::Conv2d: {
      const auto& weight = layer.param("weight");
      ops::Conv2dShape shape{.ic = static_cast<uint32_t>(weight.shape[1] * layer.groups),
                             .oc = static_cast<uint32_t>(weight.shape[0]),
                             .kh = layer.kernel_h, .kw = layer.kernel_w, .groups = layer.groups};
      return {ops::pack_conv2d_weight({weight.values(), static_cast<size_t>(weight.numel())}, shape),
              ops::pack_vec4_padded(bias_or_zero(weight.shape[0]), shape.oc)};
    }
    case OpKind::DepthwiseConv2d: {
      const auto& weight = layer.param("weight");
      ops::Conv2dShape shape{.ic = static_cast<uint32_t>(weight.shape[0]), .oc = static_cast<uint32_t>(weight.shape[0]),
                             .kh = layer.kernel_h, .kw = layer.kernel_w};
      std::vector<std::vector<float>> packed = {
          ops::pack_depthwise_weight({weight.values(), static_cast<size_t>(weight.numel())}, shape),
          ops::pack_vec4_padded(bias_or_zero(weight.shape[0]), shape.oc)};
      if (layer.fused_layer_norm) {
        const auto &gamma = layer.param("norm_weight"), &beta = layer.param("norm_bias");
        packed.push_back(ops::pack_layer_norm_affine({gamma.values(), size_t(gamma.numel())},
                                                     {beta.values(), size_t(beta.numel())}));
      }
      return packed;
    }
    case OpKind::Linear: {
      const auto& weight = layer.param("weight");
      const auto n = static_cast<uint32_t>(weight.shape[0]), k = static_cast<uint32_t>(weight.shape[1]);
      const std::span<const float> values(weight.values(), static_cast<size_t>(weight.numel()));
      return {ops::pack_gemm_weight(values, n, k), layer.normalize_input
                                                       ? ops::pack_bias_and_column_sums(bias_or_zero(n), values, n, k)
                                                       : ops::pack_vec4_padded(bias_or_zero(n), n)};
    }
    case OpKind::LayerNorm: {
      const auto &gamma = layer.param("weight"), &beta = layer.param("bias");
      return {ops::pack_layer_norm_affine({gamma.values(), static_cast<size_t>(gamma.numel())},
                                          {beta.values(), static_cast<size_t>(beta.numel())})};
    }
    case OpKind::ChannelAffine: {
      const auto& scale = layer.param("scale");
      std::vector<float> packed(scale.values(), scale.values() + scale.numel());
      packed.resize(2 * scale.numel(), 0.0f);
      if (layer.has_param("shift"))
        std::memcpy(packed.data() + scale.numel(), layer.param("shift").values(), scale.numel() * sizeof(float));
      return {packed};
    }
    case OpKind::SpatialMlp: {
      const auto &weight = layer.param("weight"), &bias = layer.param("bias");
      return {std::vector<float>(weight.values(), weight.values() + weight.numel()),
              std::vector<float>(bias.values(), bias.values() + bias.numel())};
    }
    case OpKind::InceptionDepthwise: {
      const auto &square = layer.param("weight_hw"), &wide = layer.param("weight_w"), &tall = layer.param("weight_h");
      const ops::InceptionDepthwiseShape shape{.branch = uint32_t(square.shape[0]), .square = uint32_t(square.shape[2]),
                                               .band = uint32_t(wide.shape[3])};
      std::vector<float> bias;
      for (const char* role : {"bias_hw", "bias_w", "bias_h"})
        bias.insert(bias.end(), layer.param(role).values(), layer.param(role).values() + layer.param(role).numel());
      return {ops::pack_inception_depthwise_weight({square.values(), size_t(square.numel())}, {wide.values(), size_t(wide.numel())},
                                                   {tall.values(), size_t(tall.numel())}, shape),
              bias};
    }
    case OpKind::WindowAttention: {
      std::vector<std::vector<float>> packed;
      for (const char* role : {"qkv_bias", "position_bias", "head_scale"}) {
        const auto& tensor = layer.param(role);
        packed.emplace_back(tensor.values(), tensor.values() + tensor.numel());
      }
      if (layer.fused_projection) {
        const auto& weight = layer.param("proj_weight");
        const auto c = static_cast<uint32_t>(weight.shape[0]);
        packed.push_back(ops::pack_gemm_weight({weight.values(), size_t(weight.numel())}, c, c));
        packed.push_back(ops::pack_vec4_padded({layer.param("proj_bias").values(), c}, c));
      }
      return packed;
    }
    case OpKind::PartitionLinear: {
      const ops::PartitionShape shape = partition_shape(layer, input_shape);
      const auto& weight = layer.param("weight");
      const std::span<const float> w(weight.values(), size_t(weight.numel()));
      auto optional = [&](const char* role) {
        return layer.has_param(role) ? std::span<const float>(layer.param(role).values(), size_t(layer.param(role).numel()))
                                     : std::span<const float>();
      };
      return {ops::pack_partition_weight(w, shape), ops::pack_partition_bias(optional("bias"), w, shape),
              ops::pack_partition_affine(optional("input_scale"), optional("input_shift"), shape.c)};
    }
    case OpKind::PartitionConv: {
      const auto& weight = layer.param("weight");
      std::vector<float> bias(layer.groups, 0.0f);
      if (layer.has_param("bias")) bias.assign(layer.param("bias").values(), layer.param("bias").values() + layer.groups);
      return {std::vector<float>(weight.values(), weight.values() + weight.numel()), bias};
    }
    default:
      return {};
  }
}

double layer_gflop(const Layer& layer, const Shape& input, const Shape& output) {
  const double out = static_cast<double>(shape_numel(output));
  switch (layer.op) {
    case OpKind::Conv2d:
    case OpKind::DepthwiseConv2d: {
      const auto& weight = layer.param("weight").shape;
      return 2.0 * out * weight[1] * weight[2] * weight[3] * 1e-9;
    }
    case OpKind::Linear:
      return (2.0 * out * static_cast<double>(input.back()) + (layer.normalize_input ? 5.0 * shape_numel(input) : 0.0)) *
             1e-9;
    case OpKind::LayerNorm: return 5.0 * out * 1e-9;
    case OpKind::SpatialMlp: return 2.0 * double(layer.window) * layer.window * out * 1e-9;
    case OpKind::PartitionLinear: return 2.0 * out * layer.partition_h * layer.partition_w * 1e-9;
    case OpKind::PartitionConv: return 2.0 * out * layer.kernel_h * layer.kernel_w * 1e-9;
    case OpKind::InceptionDepthwise: {
      const auto& square = layer.param("weight_hw").shape;
      const double taps = double(square[2]) * square[3] + 2.0 * layer.param("weight_w").shape[3];
      return 2.0 * double(shape_numel(output)) / double(output.back()) * square[0] * taps * 1e-9;
    }
    case OpKind::WindowAttention: {
      // QK^T and AV: 2 * 2 * T * head_dim per (token, head) = 4 * T * C per token.
      const double t = double(layer.window) * layer.window;
      return (4.0 * t * out + (layer.fused_projection ? 2.0 * out * double(output.back()) : 0.0)) * 1e-9;
    }
    default: return out * 1e-9;
  }
}

}  // namespace

Plan::Plan(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines, LayerList list, uint32_t batch,
           uint32_t height, uint32_t width, KernelFamily kernels, Precision precision, uint64_t max_binding_bytes,
           WeightCache* weight_cache)
    : context_(std::move(context)), batch_(batch) {
  if (batch == 0) throw InputError("batch size must be at least 1");
  const DeviceInfo& info = context_->info();
  const uint64_t binding_limit = max_binding_bytes ? std::min<uint64_t>(max_binding_bytes, info.max_storage_buffer_range)
                                                   : info.max_storage_buffer_range;
  kernel_choice_ = choose_kernel_family(context_, pipelines, kernels);
  const ops::GemmOperands gemm_operands =
      kernel_choice_.family == KernelFamily::SharedTiled ? ops::GemmOperands::Tiled : ops::GemmOperands::Auto;
  if (const std::string reason = ops::half_weights_unsupported_reason(info); precision == Precision::Fp16 && !reason.empty())
    throw DeviceError(reason + "; use fp32");
  list = batchnorm_to_affine(list);
  const uint64_t alignment = vk::binding_alignment(info);

  // Fusions that suit one kernel family. The register family (CPU-class devices, lavapipe) fuses a
  // depthwise conv with its LayerNorm: one invocation walks all channels of a pixel, which would starve
  // a GPU. The GPU-class family instead folds each LayerNorm into the GEMM that reads it and runs Swin's
  // attention with its projection: both add per-element arithmetic or shared memory that pay on a GPU
  // and lose on lavapipe (measured: docs/PERFORMANCE.md).
  auto fuse_for_family = [&](uint32_t images) {
    shapes_ = infer_shapes(list, images, height, width);
    if (kernel_choice_.family == KernelFamily::SharedTiled) {
      list_ = fold_layer_norm_into_linear(list);
      list_ = fuse_attention_projection(list_, [&](const Layer& attention) {
        return ops::attention_projection_query_tile(info, uint32_t(shapes_.at(attention.output).back())) > 0;
      });
    } else {
      list_ = fuse_depthwise_layer_norm(list, [&](const Layer& layer) {
        const Shape& in = shapes_.at(layer.inputs[0]);
        ops::Conv2dShape shape{.n = uint32_t(in[0]), .ih = uint32_t(in[1]), .iw = uint32_t(in[2]), .ic = uint32_t(in[3]),
                               .oc = uint32_t(in[3]), .kh = layer.kernel_h, .kw = layer.kernel_w};
        return !layer.input_nchw && ops::depthwise_layer_norm_supported(info, shape);
      });
      list_ = defer_layer_norm_to_linear(list_);
    }
    shapes_ = infer_shapes(list_, images, height, width);
  };

  // Activations: every layer output, placed by liveness. The network output lives to the end.
  // A layer that emits row statistics keeps them right after its output: (mean, 1/std) per row.
  auto statistics_offset = [&](const std::string& name) {
    return vk::align_up(uint64_t(shape_numel(shapes_.at(name))) * sizeof(float), alignment);
  };
  auto statistics_bytes = [&](const std::string& name) {
    return uint64_t(shape_numel(shapes_.at(name)) / shapes_.at(name).back()) * 2 * sizeof(float);
  };
  std::vector<TensorLifetime> lifetimes;
  auto plan_lifetimes = [&] {
    lifetimes.clear();
    for (size_t i = 0; i < list_.layers.size(); ++i) {
      const std::string& name = list_.layers[i].output;
      const uint64_t bytes = list_.layers[i].emits_statistics ? statistics_offset(name) + statistics_bytes(name)
                                                              : shape_numel(shapes_.at(name)) * sizeof(float);
      int last = static_cast<int>(i);
      for (size_t consumer : list_.consumers(name)) last = std::max(last, static_cast<int>(consumer));
      if (name == list_.output) last = static_cast<int>(list_.layers.size());
      lifetimes.push_back({name, bytes, static_cast<int>(i), last});
    }
  };

  // The sub-batch: the whole batch where every tensor (the input included) fits one binding, else
  // fewer images per submit; only one image that does not fit is refused.
  const uint64_t arena_limit = std::min<uint64_t>(vk::max_arena_bytes(info), info.device_local_bytes ? info.device_local_bytes : ~uint64_t(0));
  sub_batch_ = batch;
  for (;;) {
    fuse_for_family(sub_batch_);
    plan_lifetimes();
    TensorLifetime largest{list_.input, uint64_t(shape_numel(shapes_.at(list_.input))) * sizeof(float)};
    for (const TensorLifetime& tensor : lifetimes)
      if (tensor.bytes > largest.bytes) largest = tensor;
    largest_binding_bytes_ = largest.bytes;
    if (largest.bytes > binding_limit) {
      const uint32_t smaller = smaller_sub_batch(batch, sub_batch_, largest.bytes, binding_limit);
      if (smaller == 0)
        throw DeviceError("tensor '" + largest.name + "' needs " + std::to_string(largest.bytes) +
                          " bytes for one image, more than the device's maxStorageBufferRange (" +
                          std::to_string(binding_limit) + "); use a smaller input size");
      sub_batch_ = smaller;
      continue;
    }
    // All activations share one arena, which one allocation and one buffer must hold.
    memory_plan_ = plan_memory(lifetimes, alignment);
    if (memory_plan_.total_bytes <= arena_limit) break;
    const uint32_t smaller = smaller_sub_batch(batch, sub_batch_, memory_plan_.total_bytes, arena_limit);
    if (smaller == 0)
      throw DeviceError("the activations of one image need " + std::to_string(memory_plan_.total_bytes) +
                        " bytes, more than one allocation on this device may hold (" + std::to_string(arena_limit) +
                        ": maxMemoryAllocationSize, maxBufferSize and the device heap); use a smaller input size");
    sub_batch_ = smaller;
  }
  // The plan's own list_ is all it keeps: the tensors the family's passes replaced may go, and so
  // may the file pages those passes read.
  release_file_pages(list);
  list = LayerList{};
  input_shape_ = shapes_.at(list_.input);
  output_shape_ = shapes_.at(list_.output);

  // Weights: packed layer by layer and streamed to the device; with Fp16, each weight its kernel can
  // read as half is rounded to half (biases and norm affines stay fp32: few values, added once).
  std::vector<bool> half_weights(list_.layers.size(), false);
  for (size_t i = 0; i < list_.layers.size(); ++i) {
    const Layer& layer = list_.layers[i];
    half_weights[i] = precision == Precision::Fp16 &&
                      reads_half_weights(layer, shapes_.at(layer.inputs[0]), shapes_.at(layer.output), info, gemm_operands);
  }
  weights_ = upload_weights(
      context_, list_, half_weights,
      [&](const Layer& layer, size_t) { return pack_layer(layer, shapes_.at(layer.inputs[0])); },
      binding_limit, weight_cache);

  activations_ = std::make_unique<vk::Arena>(context_, memory_plan_.total_bytes, vk::MemoryUse::DeviceLocal, "activations");
  auto activation = [&](const std::string& name) {
    if (name == list_.input) return input_slice_;
    return activations_->slice(memory_plan_.offsets.at(name), shape_numel(shapes_.at(name)) * sizeof(float));
  };
  auto statistics = [&](const std::string& name) {
    return activations_->slice(memory_plan_.offsets.at(name) + statistics_offset(name), statistics_bytes(name));
  };

  // Input and output: mapped directly on unified memory, else staged by copies in the command buffer.
  const uint64_t input_bytes = shape_numel(input_shape_) * sizeof(float),
                 output_bytes = shape_numel(output_shape_) * sizeof(float);
  input_ = std::make_unique<vk::Arena>(context_, input_bytes, vk::MemoryUse::DeviceLocal, "input");
  input_slice_ = input_->slice(0, input_bytes);
  if (!input_->host_visible())
    input_staging_ = std::make_unique<vk::Arena>(context_, input_bytes, vk::MemoryUse::Upload, "input staging");
  output_slice_ = activation(list_.output);
  if (!activations_->host_visible())
    output_staging_ = std::make_unique<vk::Arena>(context_, output_bytes, vk::MemoryUse::Readback, "output staging");

  // Dispatches.
  std::vector<vk::Dispatch> dispatches;
  for (size_t i = 0; i < list_.layers.size(); ++i) {
    const Layer& layer = list_.layers[i];
    const Shape& in = shapes_.at(layer.inputs[0]);
    const Shape& out = shapes_.at(layer.output);
    auto param = [&](size_t k) { return weights_->slice(i, k); };
    const bool half = half_weights[i];
    const vk::BufferSlice x = activation(layer.inputs[0]), y = activation(layer.output);
    vk::Dispatch dispatch;
    switch (layer.op) {
      case OpKind::Conv2d:
      case OpKind::DepthwiseConv2d: {
        const ops::Conv2dShape shape = conv2d_shape(layer, in);
        if (layer.op == OpKind::DepthwiseConv2d) {
          if (layer.input_nchw) throw Error("internal: depthwise convolution cannot read the NCHW input");
          dispatch = layer.fused_layer_norm
                         ? ops::depthwise_conv2d_layer_norm(info, shape, layer.eps, x, param(0), param(1), param(2), y, half,
                                                            layer.emits_statistics ? std::optional(statistics(layer.output))
                                                                                   : std::nullopt)
                         : ops::depthwise_conv2d(info, shape, x, param(0), param(1), y, half);
        } else {
          dispatch = ops::conv2d(info, shape, layer.activation, x, param(0), param(1), y, half);
        }
        break;
      }
      case OpKind::Linear: {
        ops::GemmBuffers buffers{x, param(0), param(1), y, std::nullopt};
        if (layer.residual) buffers.residual = activation(layer.inputs[1]);
        if (layer.input_statistics) buffers.row_statistics = statistics(layer.inputs[0]);
        const bool gathers_statistics = layer.normalize_input && !layer.input_statistics;
        dispatch = ops::gemm(info, gemm_shape(in, out), layer.activation, buffers, gemm_operands, half,
                             gathers_statistics ? std::optional<float>(layer.eps) : std::nullopt);
        break;
      }
      case OpKind::LayerNorm: {
        const auto channels = static_cast<uint32_t>(out.back());
        std::optional<vk::BufferSlice> residual;
        if (layer.residual) residual = activation(layer.inputs[1]);
        std::optional<ops::PatchGather> gather;
        if (layer.gather_patches) gather = ops::PatchGather{uint32_t(in[0]), uint32_t(in[1]), uint32_t(in[2])};
        dispatch = ops::layer_norm(info, static_cast<uint32_t>(shape_numel(out) / channels), channels, layer.eps, x,
                                   param(0), y, residual, gather);
        break;
      }
      case OpKind::MeanPool:
        dispatch = ops::mean_pool(info, static_cast<uint32_t>(in[0]), static_cast<uint32_t>(in[1] * in[2]),
                                  static_cast<uint32_t>(in[3]), x, y);
        break;
      case OpKind::ChannelAffine:
        dispatch = ops::elementwise(info, ops::ElementwiseMode::ChannelAffine, static_cast<uint32_t>(shape_numel(in)),
                                    static_cast<uint32_t>(in.back()), x, param(0), y);
        break;
      case OpKind::Gelu:
      case OpKind::Relu:
        dispatch = ops::elementwise(info, layer.op == OpKind::Gelu ? ops::ElementwiseMode::Gelu : ops::ElementwiseMode::Relu,
                                    static_cast<uint32_t>(shape_numel(in)), 1, x, x, y);
        break;
      case OpKind::Add:
        dispatch = ops::elementwise(info, ops::ElementwiseMode::Add, static_cast<uint32_t>(shape_numel(in)), 1, x,
                                    activation(layer.inputs[1]), y);
        break;
      case OpKind::WindowAttention: {
        ops::WindowAttentionShape shape{.n = uint32_t(in[0]), .h = uint32_t(in[1]), .w = uint32_t(in[2]),
                                        .c = uint32_t(out[3]), .heads = layer.heads, .window = layer.window,
                                        .shift = layer.shift, .cosine = layer.cosine};
        if (layer.fused_projection) {
          ops::AttentionProjectionBuffers buffers{x, param(0), param(1), param(2), param(3), param(4), std::nullopt, y};
          if (layer.residual) buffers.residual = activation(layer.inputs[1]);
          dispatch = ops::window_attention_projection(info, shape, buffers);
        } else {
          dispatch = ops::window_attention(info, shape, x, param(0), param(1), param(2), y);
        }
        break;
      }
      case OpKind::SpatialMlp: {
        ops::SpatialMlpShape shape{.n = uint32_t(in[0]), .h = uint32_t(in[1]), .w = uint32_t(in[2]), .c = uint32_t(in[3]),
                                   .heads = layer.heads, .window = layer.window, .shift = layer.shift};
        dispatch = ops::spatial_mlp(info, shape, x, param(0), param(1), y);
        break;
      }
      case OpKind::PartitionLinear: {
        ops::PartitionLinearBuffers buffers{.input = x, .weight = param(0), .bias_rowsum = param(1), .affine = param(2), .output = y};
        if (layer.gate) buffers.gate = activation(layer.inputs[1]);
        if (layer.residual) buffers.residual = activation(layer.inputs.back());
        dispatch = ops::partition_linear(info, partition_shape(layer, in), buffers, half);
        break;
      }
      case OpKind::PartitionConv:
        dispatch = ops::partition_conv(info, partition_shape(layer, in), layer.kernel_h, layer.kernel_w, x, param(0), param(1), y);
        break;
      case OpKind::ChannelGate:
        dispatch = ops::elementwise(info, ops::ElementwiseMode::ChannelGate, uint32_t(shape_numel(in)), uint32_t(in[3]), x,
                                    activation(layer.inputs[1]), y, uint32_t(in[1] * in[2] * in[3]));
        break;
      case OpKind::InceptionDepthwise: {
        const auto &square = layer.param("weight_hw").shape, &wide = layer.param("weight_w").shape;
        ops::InceptionDepthwiseShape shape{.n = uint32_t(in[0]), .h = uint32_t(in[1]), .w = uint32_t(in[2]), .c = uint32_t(in[3]),
                                           .branch = uint32_t(square[0]), .square = uint32_t(square[2]), .band = uint32_t(wide[3])};
        dispatch = ops::inception_depthwise_conv2d(info, shape, x, param(0), param(1), y, half);
        break;
      }
      case OpKind::PatchMergeGather:
        dispatch = ops::patch_merge_gather(info, uint32_t(in[0]), uint32_t(in[1]), uint32_t(in[2]), uint32_t(in[3]), x, y);
        break;
      case OpKind::BatchNorm:
        throw Error("internal: BatchNorm reached the plan unconverted");
    }
    if ((layer.op == OpKind::Gelu || layer.op == OpKind::Relu ||
         (layer.op == OpKind::WindowAttention && !layer.fused_projection) || layer.op == OpKind::SpatialMlp ||
         layer.op == OpKind::InceptionDepthwise || layer.op == OpKind::PartitionConv || layer.op == OpKind::ChannelGate ||
         layer.op == OpKind::ChannelAffine || layer.op == OpKind::Add || layer.op == OpKind::MeanPool) && layer.residual)
      throw Error("internal: residual epilogue on " + std::string(op_name(layer.op)));
    dispatch.layer = static_cast<int>(i);
    dispatches.push_back(std::move(dispatch));
  }
  program_ = std::make_unique<vk::DispatchProgram>(*context_, pipelines, std::move(dispatches));

  commands_ = std::make_unique<vk::CommandBuffer>(*context_);
  commands_->begin();
  record(*commands_, VK_NULL_HANDLE);
  commands_->end();
}

Plan::~Plan() {
  if (query_pool_) vkDestroyQueryPool(context_->device(), query_pool_, nullptr);
}

void Plan::record(vk::CommandBuffer& commands, VkQueryPool timestamps) const {
  if (timestamps) commands.reset_queries(timestamps, 0, static_cast<uint32_t>(program_->layers().size() + 1));
  if (input_staging_) {
    commands.copy(input_staging_->slice(0, input_slice_.size), input_slice_);
    commands.barrier_transfer_to_compute();
  }
  program_->record(commands, timestamps);
  if (output_staging_) {
    commands.barrier_compute_to_transfer();
    commands.copy(output_slice_, output_staging_->slice(0, output_slice_.size));
  }
  commands.barrier_transfer_to_host();
}

void Plan::check_input(std::span<const float> input) const {
  if (input.size() != input_count())
    throw InputError("input has " + std::to_string(input.size()) + " values, the plan expects " +
                     std::to_string(batch_) + " images of " + shape_string(Shape(input_shape_.begin() + 1, input_shape_.end())) +
                     " = " + std::to_string(input_count()));
}

void Plan::write_input(std::span<const float> images) {
  const vk::BufferSlice target = (input_staging_ ? *input_staging_ : *input_).slice(0, input_slice_.size);
  std::memcpy(target.mapped, images.data(), images.size_bytes());
  // A last sub-batch with fewer images runs zeros in the rest (rows never mix; their logits are dropped).
  std::memset(target.mapped + images.size_bytes(), 0, input_slice_.size - images.size_bytes());
  target.flush();
}

void Plan::read_output(std::span<float> images) const {
  const vk::BufferSlice source = output_staging_ ? output_staging_->slice(0, output_slice_.size) : output_slice_;
  source.invalidate();
  std::memcpy(images.data(), source.mapped, images.size_bytes());
}

void Plan::run(std::span<const float> input, std::span<float> output) {
  check_input(input);
  if (output.size() != output_count()) throw Error("internal: output span has the wrong size");
  const size_t in_image = input_count() / batch_, out_image = output_count() / batch_;
  for (uint32_t first = 0; first < batch_; first += sub_batch_) {
    const uint32_t images = std::min(sub_batch_, batch_ - first);
    write_input(input.subspan(first * in_image, images * in_image));
    context_->submit_and_wait(commands_->handle());
    read_output(output.subspan(first * out_image, images * out_image));
  }
}

std::vector<LayerTiming> Plan::profile(std::span<const float> input) {
  const auto& layers = program_->layers();
  if (!context_->info().timestamps) throw DeviceError("the device does not support timestamps on its compute queue");
  if (!profile_commands_) {
    VkQueryPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                    .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                    .queryCount = static_cast<uint32_t>(layers.size() + 1)};
    VKV_CHECK(vkCreateQueryPool(context_->device(), &pool_info, nullptr, &query_pool_));
    profile_commands_ = std::make_unique<vk::CommandBuffer>(*context_);
    profile_commands_->begin();
    record(*profile_commands_, query_pool_);
    profile_commands_->end();
  }
  check_input(input);
  // Per layer, the device time summed over the batch's submits.
  std::vector<uint64_t> elapsed(layers.size(), 0), ticks(layers.size() + 1);
  const size_t in_image = input_count() / batch_;
  for (uint32_t first = 0; first < batch_; first += sub_batch_) {
    write_input(input.subspan(first * in_image, std::min(sub_batch_, batch_ - first) * in_image));
    context_->submit_and_wait(profile_commands_->handle());
    VKV_CHECK(vkGetQueryPoolResults(context_->device(), query_pool_, 0, static_cast<uint32_t>(ticks.size()),
                                    ticks.size() * sizeof(uint64_t), ticks.data(), sizeof(uint64_t),
                                    VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    for (size_t k = 0; k < layers.size(); ++k)
      elapsed[k] += vk::elapsed_ticks(ticks[k], ticks[k + 1], context_->info().timestamp_valid_bits);
  }
  std::vector<LayerTiming> timings;
  const double period_ms = context_->info().timestamp_period_ns * 1e-6;
  for (size_t k = 0; k < layers.size(); ++k) {
    const Layer& layer = list_.layers[layers[k]];
    LayerTiming timing;
    timing.name = layer.name;
    timing.op = op_name(layer.op);
    if (layer.normalize_input) timing.op = "layer_norm+" + timing.op;
    if (layer.gather_patches) timing.op = "patch_gather+" + timing.op;
    if (layer.fused_layer_norm) timing.op += layer.emits_statistics ? "+layer_norm_statistics" : "+layer_norm";
    if (layer.fused_projection) timing.op += "+projection";
    if (layer.activation != ops::Activation::None) timing.op += std::string("+") + ops::activation_name(layer.activation);
    if (layer.residual) timing.op += "+residual";
    timing.output_shape = shape_string(shapes_.at(layer.output));
    timing.dispatches = 0;
    for (const auto& dispatch : program_->dispatches()) timing.dispatches += dispatch.layer == layers[k];
    timing.milliseconds = static_cast<double>(elapsed[k]) * period_ms;
    // Each submit runs the sub-batch's shapes (a padded last one too): work and bytes per submit, times submits.
    const double submits = submit_count(batch_, sub_batch_);
    timing.gflop = submits * layer_gflop(layer, shapes_.at(layer.inputs[0]), shapes_.at(layer.output));
    double bytes = double(shape_numel(shapes_.at(layer.output)));
    for (const auto& input : layer.inputs) bytes += double(shape_numel(shapes_.at(input)));
    for (const auto& [role, tensor] : layer.params) bytes += double(tensor.numel());
    timing.megabytes = submits * bytes * sizeof(float) * 1e-6;
    timings.push_back(timing);
  }
  return timings;
}

}  // namespace vkvision::graph
