// A fixed sequence of compute dispatches, with its descriptor sets written once, recorded into a
// command buffer with barriers only where one dispatch reads or overwrites what an earlier wrote.
#pragma once
#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "vk/command.h"
#include "vk/memory.h"
#include "vk/pipeline.h"
#include "vk/shader_ids.h"

namespace vkvision::vk {

struct Dispatch {
  ShaderId shader = ShaderId::count;  // ShaderId::count: none (building the program throws)
  std::vector<int32_t> specialization;
  std::vector<BufferSlice> buffers;  // bindings 0..n-1
  uint32_t written = 0;              // bit i set: the shader writes binding i
  uint32_t texel = 0;                // bit i set: binding i is read as an RGBA32F uniform texel buffer
  uint32_t half_texel = 0;           // bit i set: ... and its view is RGBA16F (fp16 weights; same shader)
  std::vector<std::byte> push;       // at most kPushConstantBytes
  std::array<uint32_t, 3> groups{1, 1, 1};
  int layer = -1;  // the layer this dispatch implements (for per-layer timing)

  template <typename T>
  void set_push(const T& value) {
    static_assert(sizeof(T) <= kPushConstantBytes);
    push.resize(sizeof(T));
    std::memcpy(push.data(), &value, sizeof(T));
  }
};

// Workgroup counts for `invocations` one-dimensional invocations of `local_size` each, spread over
// x and y when x alone would exceed the device limit. Shaders use LINEAR_INVOCATION_ID.
std::array<uint32_t, 3> groups_for(uint64_t invocations, uint32_t local_size, const DeviceInfo& info);

class DispatchProgram {
 public:
  DispatchProgram(Context& context, PipelineCache& pipelines, std::vector<Dispatch> dispatches);
  ~DispatchProgram();
  DispatchProgram(const DispatchProgram&) = delete;
  DispatchProgram& operator=(const DispatchProgram&) = delete;

  // With a query pool, writes timestamp k before the first dispatch of the k-th distinct layer and
  // one after the last dispatch: layer_boundaries() + 1 queries.
  void record(CommandBuffer& commands, VkQueryPool timestamps = VK_NULL_HANDLE) const;
  size_t dispatch_count() const { return dispatches_.size(); }
  size_t barrier_count() const;
  // Distinct layer ids in dispatch order.
  const std::vector<int>& layers() const { return layers_; }
  const std::vector<Dispatch>& dispatches() const { return dispatches_; }

 private:
  std::vector<bool> barrier_before_;  // per dispatch
  Context& context_;
  std::vector<Dispatch> dispatches_;
  std::vector<const Pipeline*> pipelines_;
  std::vector<VkDescriptorSet> sets_;
  std::vector<VkBufferView> views_;
  std::vector<int> layers_;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
};

}  // namespace vkvision::vk
