#include "exec/plan.h"

#include <cstring>

#include "exec/kernel_passes.h"
#include "ir/passes.h"
#include "ir/sub_batch.h"
#include "ops/half_weights.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "vk/check.h"
#include "vk/timestamps.h"
#include "vkvision/error.h"

namespace vkvision::exec {

using namespace ir;

Plan::Plan(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines, LayerList list, uint32_t batch,
           uint32_t height, uint32_t width, KernelFamily kernels, Precision precision,
           uint64_t max_binding_bytes, WeightCache* weight_cache)
    : context_(std::move(context)), batch_(batch) {
  if (batch == 0) throw InputError("batch size must be at least 1");
  const DeviceInfo& info = context_->info();
  const uint64_t binding_limit = max_binding_bytes
                                     ? std::min<uint64_t>(max_binding_bytes, info.max_storage_buffer_range)
                                     : info.max_storage_buffer_range;
  kernel_choice_ = choose_kernel_family(context_, pipelines, kernels);
  gemm_operands_ =
      kernel_choice_.family == KernelFamily::SharedTiled ? ops::GemmOperands::Tiled : ops::GemmOperands::Auto;
  if (const std::string reason = ops::half_weights_unsupported_reason(info);
      precision == Precision::Fp16 && !reason.empty())
    throw DeviceError(reason + "; use fp32");
  choose_sub_batch(list, height, width, binding_limit);
  // The plan's own list_ is all it keeps: the tensors the family's passes replaced may go, and so
  // may the file pages those passes read.
  release_file_pages(list);
  list = LayerList{};
  input_shape_ = shapes_.at(list_.input);
  output_shape_ = shapes_.at(list_.output);
  upload_parameters(precision, binding_limit, weight_cache);
  allocate_input_output();
  lower(pipelines);
  commands_ = std::make_unique<vk::CommandBuffer>(*context_);
  commands_->begin();
  record(*commands_, VK_NULL_HANDLE);
  commands_->end();
}

// The sub-batch: the whole batch where every tensor (the input included) fits one binding and all
// activations one arena, else fewer images per submit; only one image that does not fit is refused.
// The family's passes run at each candidate (whether a fused kernel fits depends on the batch).
void Plan::choose_sub_batch(const LayerList& list, uint32_t height, uint32_t width, uint64_t binding_limit) {
  const DeviceInfo& info = context_->info();
  const uint64_t alignment = vk::binding_alignment(info);
  const uint64_t arena_limit = std::min<uint64_t>(
      vk::max_arena_bytes(info), info.device_local_bytes ? info.device_local_bytes : ~uint64_t(0));
  sub_batch_ = batch_;
  for (;;) {
    list_ = run_passes(list, kernel_family_passes(info, kernel_choice_.family, sub_batch_, height, width));
    shapes_ = infer_shapes(list_, sub_batch_, height, width);
    const std::vector<TensorLifetime> lifetimes = tensor_lifetimes(list_, shapes_, alignment);
    TensorLifetime largest{list_.input, uint64_t(shape_numel(shapes_.at(list_.input))) * sizeof(float)};
    for (const TensorLifetime& tensor : lifetimes)
      if (tensor.bytes > largest.bytes) largest = tensor;
    largest_binding_bytes_ = largest.bytes;
    if (largest.bytes > binding_limit) {
      const uint32_t smaller = smaller_sub_batch(batch_, sub_batch_, largest.bytes, binding_limit);
      if (smaller == 0)
        throw DeviceError("tensor '" + largest.name + "' needs " + std::to_string(largest.bytes) +
                          " bytes for one image, more than the device's maxStorageBufferRange (" +
                          std::to_string(binding_limit) + "); use a smaller input size");
      sub_batch_ = smaller;
      continue;
    }
    // All activations share one arena, which one allocation and one buffer must hold.
    memory_plan_ = plan_memory(lifetimes, alignment);
    if (memory_plan_.total_bytes <= arena_limit) return;
    const uint32_t smaller = smaller_sub_batch(batch_, sub_batch_, memory_plan_.total_bytes, arena_limit);
    if (smaller == 0)
      throw DeviceError(
          "the activations of one image need " + std::to_string(memory_plan_.total_bytes) +
          " bytes, more than one allocation on this device may hold (" + std::to_string(arena_limit) +
          ": maxMemoryAllocationSize, maxBufferSize and the device heap); use a smaller input size");
    sub_batch_ = smaller;
  }
}

// Weights: packed layer by layer and streamed to the device; with Fp16, each weight its kernel can
// read as half is rounded to half (biases and norm affines stay fp32: few values, added once).
void Plan::upload_parameters(Precision precision, uint64_t binding_limit, WeightCache* weight_cache) {
  half_weights_.assign(list_.layers.size(), false);
  for (size_t i = 0; i < list_.layers.size(); ++i) {
    const Layer& layer = list_.layers[i];
    const ops::KernelQuery query{context_->info(), layer, shapes_.at(layer.inputs[0]),
                                 shapes_.at(layer.output), gemm_operands_};
    half_weights_[i] = precision == Precision::Fp16 && ops::op_traits(layer).reads_half_weights(query);
  }
  weights_ = upload_weights(
      context_, list_, half_weights_,
      [&](const Layer& layer, size_t) {
        return ops::op_traits(layer).pack(layer, shapes_.at(layer.inputs[0]));
      },
      binding_limit, weight_cache);
}

// Input and output: mapped directly on unified memory, else staged by copies in the command buffer.
void Plan::allocate_input_output() {
  activations_ = std::make_unique<vk::Arena>(context_, memory_plan_.total_bytes, vk::MemoryUse::DeviceLocal,
                                             "activations");
  const uint64_t input_bytes = shape_numel(input_shape_) * sizeof(float),
                 output_bytes = shape_numel(output_shape_) * sizeof(float);
  input_ = std::make_unique<vk::Arena>(context_, input_bytes, vk::MemoryUse::DeviceLocal, "input");
  input_slice_ = input_->slice(0, input_bytes);
  if (!input_->host_visible())
    input_staging_ =
        std::make_unique<vk::Arena>(context_, input_bytes, vk::MemoryUse::Upload, "input staging");
  output_slice_ = tensor_slice(list_.output);
  if (!activations_->host_visible())
    output_staging_ =
        std::make_unique<vk::Arena>(context_, output_bytes, vk::MemoryUse::Readback, "output staging");
}

vk::BufferSlice Plan::tensor_slice(const std::string& name) const {
  if (name == list_.input) return input_slice_;
  return activations_->slice(memory_plan_.offsets.at(name), shape_numel(shapes_.at(name)) * sizeof(float));
}

vk::BufferSlice Plan::statistics_slice(const std::string& name) const {
  const Shape& shape = shapes_.at(name);
  return activations_->slice(
      memory_plan_.offsets.at(name) + statistics_offset(shape, vk::binding_alignment(context_->info())),
      statistics_bytes(shape));
}

// Every layer becomes its op's dispatch, its descriptors written once.
void Plan::lower(vk::PipelineCache& pipelines) {
  std::vector<vk::Dispatch> dispatches;
  for (size_t i = 0; i < list_.layers.size(); ++i) {
    const Layer& layer = list_.layers[i];
    const ops::Lowering lowering{
        {context_->info(), layer, shapes_.at(layer.inputs[0]), shapes_.at(layer.output), gemm_operands_},
        half_weights_[i],
        [&, i](size_t k) { return weights_->slice(i, k); },
        [&](const std::string& name) { return tensor_slice(name); },
        [&](const std::string& name) { return statistics_slice(name); }};
    vk::Dispatch dispatch = ops::op_traits(layer).lower(lowering);
    dispatch.layer = static_cast<int>(i);
    dispatches.push_back(std::move(dispatch));
  }
  program_ = std::make_unique<vk::DispatchProgram>(*context_, pipelines, std::move(dispatches));
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
                     std::to_string(batch_) + " images of " +
                     shape_string(Shape(input_shape_.begin() + 1, input_shape_.end())) + " = " +
                     std::to_string(input_count()));
}

void Plan::write_input(std::span<const float> images) {
  const vk::BufferSlice target = (input_staging_ ? *input_staging_ : *input_).slice(0, input_slice_.size);
  std::memcpy(target.mapped, images.data(), images.size_bytes());
  // A last sub-batch with fewer images runs zeros in the rest (rows never mix; their logits are dropped).
  std::memset(target.mapped + images.size_bytes(), 0, input_slice_.size - images.size_bytes());
  target.flush();
}

void Plan::read_output(std::span<float> images) const {
  const vk::BufferSlice source =
      output_staging_ ? output_staging_->slice(0, output_slice_.size) : output_slice_;
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
  if (!context_->info().timestamps)
    throw DeviceError("the device does not support timestamps on its compute queue");
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
    timing.op = fused_op_name(layer);
    timing.output_shape = shape_string(shapes_.at(layer.output));
    timing.dispatches = 0;
    for (const auto& dispatch : program_->dispatches()) timing.dispatches += dispatch.layer == layers[k];
    timing.milliseconds = static_cast<double>(elapsed[k]) * period_ms;
    // Each submit runs the sub-batch's shapes (a padded last one too): work and bytes per submit, times
    // submits.
    const double submits = submit_count(batch_, sub_batch_);
    timing.gflop = submits * layer_gflop(layer);
    double bytes = double(shape_numel(shapes_.at(layer.output)));
    for (const auto& input : layer.inputs) bytes += double(shape_numel(shapes_.at(input)));
    for (const auto& [role, tensor] : layer.params) bytes += double(tensor.numel());
    timing.megabytes = submits * bytes * sizeof(float) * 1e-6;
    timings.push_back(timing);
  }
  return timings;
}

double Plan::layer_gflop(const Layer& layer) const {
  return ops::op_traits(layer).gflop(layer, shapes_.at(layer.inputs[0]), shapes_.at(layer.output));
}

double Plan::gflop() const {
  double total = 0;
  for (const auto index : program_->layers()) total += layer_gflop(list_.layers[index]);
  return total * submit_count(batch_, sub_batch_);
}

uint64_t Plan::parameter_count() const {
  uint64_t total = 0;
  for (const auto index : program_->layers())
    for (const auto& [role, tensor] : list_.layers[index].params) total += tensor.numel();
  return total;
}

}  // namespace vkvision::exec
