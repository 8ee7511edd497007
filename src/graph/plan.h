// A layer list compiled for one device, batch size and input size: weights packed and uploaded
// once, activations placed by the memory plan, every dispatch's descriptors written once, and one
// command buffer recorded once and replayed by every run (one submit per inference).
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/kernel_trial.h"
#include "graph/layer_list.h"
#include "graph/memory_plan.h"
#include "vkvision/vkvision.h"
#include "vk/command.h"
#include "vk/memory.h"
#include "vk/pipeline.h"
#include "vk/program.h"

namespace vkvision::graph {

using LayerTiming = vkvision::LayerTiming;

class Plan {
 public:
  Plan(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines, const LayerList& list, uint32_t batch,
       uint32_t height, uint32_t width, KernelFamily kernels = KernelFamily::Auto,
       Precision precision = Precision::Fp32);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // input: NCHW float32 of input_count() values; output: output_count() values.
  void run(std::span<const float> input, std::span<float> output);
  // Runs once with a timestamp after every layer and returns the per-layer device times.
  std::vector<LayerTiming> profile(std::span<const float> input);

  size_t input_count() const { return static_cast<size_t>(shape_numel(input_shape_)); }
  size_t output_count() const { return static_cast<size_t>(shape_numel(output_shape_)); }
  const Shape& output_shape() const { return output_shape_; }
  size_t dispatch_count() const { return program_->dispatch_count(); }
  size_t barrier_count() const { return program_->barrier_count(); }
  uint64_t weight_bytes() const { return weights_->size(); }
  uint64_t activation_bytes() const { return memory_plan_.total_bytes; }
  const MemoryPlan& memory_plan() const { return memory_plan_; }
  // The GEMM family this plan runs and why (requested, device properties, timed or cached trial).
  const KernelChoice& kernel_choice() const { return kernel_choice_; }

 private:
  void record(vk::CommandBuffer& commands, VkQueryPool timestamps) const;
  void write_input(std::span<const float> input);

  std::shared_ptr<vk::Context> context_;
  KernelChoice kernel_choice_;
  LayerList list_;
  Shape input_shape_, output_shape_;
  std::map<std::string, Shape> shapes_;
  MemoryPlan memory_plan_;
  std::unique_ptr<vk::Arena> weights_, activations_, input_, input_staging_, output_staging_;
  vk::BufferSlice input_slice_, output_slice_;
  std::unique_ptr<vk::DispatchProgram> program_;
  std::unique_ptr<vk::CommandBuffer> commands_;
  std::unique_ptr<vk::CommandBuffer> profile_commands_;
  VkQueryPool query_pool_ = VK_NULL_HANDLE;
};

}  // namespace vkvision::graph
