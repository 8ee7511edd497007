// A command pool with one primary command buffer, and the few commands vkvision records.
#pragma once
#include <vulkan/vulkan.h>

#include "vk/context.h"
#include "vk/memory.h"

namespace vkvision::vk {

class CommandBuffer {
 public:
  explicit CommandBuffer(Context& context);
  ~CommandBuffer();
  CommandBuffer(const CommandBuffer&) = delete;
  CommandBuffer& operator=(const CommandBuffer&) = delete;

  // Recorded once, replayed by every submit (no ONE_TIME_SUBMIT flag).
  void begin();
  void end();
  VkCommandBuffer handle() const { return buffer_; }

  void copy(const BufferSlice& source, const BufferSlice& destination);
  // Shader writes -> later shader reads/writes.
  void barrier_compute_to_compute();
  // Transfer writes (input copies) -> shader reads.
  void barrier_transfer_to_compute();
  // Shader writes -> transfer reads (output copies).
  void barrier_compute_to_transfer();
  // Shader or transfer writes -> host reads after the fence.
  void barrier_transfer_to_host();
  void reset_queries(VkQueryPool pool, uint32_t first, uint32_t count);
  void write_timestamp(VkQueryPool pool, uint32_t query);

 private:
  void memory_barrier(VkPipelineStageFlags source_stage, VkAccessFlags source_access,
                      VkPipelineStageFlags destination_stage, VkAccessFlags destination_access);

  Context& context_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer buffer_ = VK_NULL_HANDLE;
};

}  // namespace vkvision::vk
