// A command pool with one primary command buffer (or a host application's command buffer, borrowed),
// and the few commands vkvision records.
#pragma once
#include <vulkan/vulkan.h>

#include "vk/context.h"
#include "vk/memory.h"

namespace vkvision::vk {

class CommandBuffer {
 public:
  // simultaneous_use: the recording may be pending in several submissions at once (Session::submit).
  explicit CommandBuffer(Context& context, bool simultaneous_use = false);
  // Records into a host's command buffer between its own begin and end; owns nothing.
  CommandBuffer(Context& context, VkCommandBuffer borrowed);
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
  // Any memory dependency (the host's entry and exit contract, Session::record).
  void memory_barrier(VkPipelineStageFlags source_stage, VkAccessFlags source_access,
                      VkPipelineStageFlags destination_stage, VkAccessFlags destination_access);
  void reset_queries(VkQueryPool pool, uint32_t first, uint32_t count);
  void write_timestamp(VkQueryPool pool, uint32_t query);

 private:
  Context& context_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer buffer_ = VK_NULL_HANDLE;
  bool simultaneous_use_ = false;
};

}  // namespace vkvision::vk
