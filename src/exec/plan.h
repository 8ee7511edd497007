// A layer list compiled for one device, batch size and input size: the kernel family's passes run,
// weights packed and uploaded once, activations placed by the memory plan, every layer lowered to its
// dispatch by its op's traits (ops/op_traits.h) with descriptors written once. Compiling is apart
// from recording: record() writes the plan into any command buffer; run() replays one the plan
// recorded itself (one submit per inference, or per sub-batch where the batch's activations exceed
// what one binding can address).
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "exec/kernel_trial.h"
#include "exec/weight_upload.h"
#include "ir/layer_list.h"
#include "ir/memory_plan.h"
#include "ops/gemm.h"
#include "vk/command.h"
#include "vk/memory.h"
#include "vk/pipeline.h"
#include "vk/program.h"
#include "vkvision/vkvision.h"

namespace vkvision::exec {

using ir::MemoryPlan;

using LayerTiming = vkvision::LayerTiming;

class Plan {
 public:
  // list: the layer list to compile (the plan keeps only what it needs: once uploaded, its weights'
  // host values are let go). A batch whose activations exceed one binding's range (the device's
  // maxStorageBufferRange, or max_binding_bytes where smaller and nonzero) runs as several submits of
  // a smaller sub-batch; DeviceError names the tensor when one image does not fit. With a
  // weight_cache (one per model), plans of the same device and weight layout share one upload.
  Plan(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines, LayerList list, uint32_t batch,
       uint32_t height, uint32_t width, KernelFamily kernels = KernelFamily::Auto,
       Precision precision = Precision::Fp32, uint64_t max_binding_bytes = 0,
       WeightCache* weight_cache = nullptr);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // input: NCHW float32 of input_count() values; output: output_count() values.
  void run(std::span<const float> input, std::span<float> output);
  // Runs once with a timestamp after every layer and returns the per-layer device times (summed over
  // the sub-batches).
  std::vector<LayerTiming> profile(std::span<const float> input);

  uint32_t batch() const { return batch_; }
  // Images per submit: the batch, or fewer where its activations do not fit one binding.
  uint32_t sub_batch() const { return sub_batch_; }
  // The largest tensor one submit binds (input or activation), which the sub-batch keeps in range.
  uint64_t largest_binding_bytes() const { return largest_binding_bytes_; }
  size_t input_count() const { return static_cast<size_t>(shape_numel(input_shape_) / sub_batch_ * batch_); }
  size_t output_count() const {
    return static_cast<size_t>(shape_numel(output_shape_) / sub_batch_ * batch_);
  }
  // Records one sub-batch's inference into `commands` (between its begin and end): the input copied
  // from its staging buffer where it has one, the dispatches with their barriers, the output copied
  // to its readback buffer, and a barrier that makes it visible to the host. With `timestamps` (a
  // pool of layers + 1 queries), a timestamp before the first dispatch and after each layer.
  void record(vk::CommandBuffer& commands, VkQueryPool timestamps = VK_NULL_HANDLE) const;

  // For recording with inputs and outputs of the caller's (exec/frame_recording.h): one sub-batch's
  // input and logits on the device, and its dispatches with the barriers between them only.
  const vk::BufferSlice& input_slice() const { return input_slice_; }
  const vk::BufferSlice& output_slice() const { return output_slice_; }
  void record_dispatches(vk::CommandBuffer& commands) const { program_->record(commands); }
  const vk::Context& context() const { return *context_; }

  size_t dispatch_count() const { return program_->dispatch_count(); }
  size_t barrier_count() const { return program_->barrier_count(); }
  uint64_t weight_bytes() const { return weights_->bytes(); }
  // The device weights this plan reads (shared with other plans through a WeightCache).
  const DeviceWeights& weights() const { return *weights_; }
  uint64_t activation_bytes() const { return memory_plan_.total_bytes; }
  const MemoryPlan& memory_plan() const { return memory_plan_; }
  // The GEMM family this plan runs and why (requested, device properties, timed or cached trial).
  const KernelChoice& kernel_choice() const { return kernel_choice_; }
  // Static costs of the layers as executed (no device work): the GFLOP of one run of the whole batch,
  // what profile()'s per-layer gflop sums to, and the values in their parameter tensors (after the
  // folding, fusion and kernel-family passes, before packing for the device).
  double gflop() const;
  uint64_t parameter_count() const;

 private:
  // The steps of compiling, in order.
  void choose_sub_batch(const LayerList& list, uint32_t height, uint32_t width, uint64_t binding_limit);
  void upload_parameters(Precision precision, uint64_t binding_limit, WeightCache* weight_cache);
  void allocate_input_output();
  void lower(vk::PipelineCache& pipelines);
  vk::BufferSlice tensor_slice(const std::string& name) const;
  vk::BufferSlice statistics_slice(const std::string& name) const;
  void check_input(std::span<const float> input) const;
  // One layer's GFLOP at the sub-batch's shapes.
  double layer_gflop(const Layer& layer) const;
  // One sub-batch's images in, zeros after them; its logits out.
  void write_input(std::span<const float> images);
  void read_output(std::span<float> images) const;

  std::shared_ptr<vk::Context> context_;
  KernelChoice kernel_choice_;
  ops::GemmOperands gemm_operands_ = ops::GemmOperands::Auto;
  std::vector<bool> half_weights_;  // per layer: its first parameter is fp16
  uint32_t batch_ = 1, sub_batch_ = 1;
  uint64_t largest_binding_bytes_ = 0;
  LayerList list_;                    // as fused for the kernel family; parameters keep their shapes only
  Shape input_shape_, output_shape_;  // at the sub-batch
  std::map<std::string, Shape> shapes_;
  MemoryPlan memory_plan_;
  std::shared_ptr<const DeviceWeights> weights_;
  std::unique_ptr<vk::Arena> activations_, input_, input_staging_, output_staging_;
  vk::BufferSlice input_slice_, output_slice_;
  std::unique_ptr<vk::DispatchProgram> program_;
  std::unique_ptr<vk::CommandBuffer> commands_;
  std::unique_ptr<vk::CommandBuffer> profile_commands_;
  VkQueryPool query_pool_ = VK_NULL_HANDLE;
};

}  // namespace vkvision::exec
