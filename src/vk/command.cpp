#include "vk/command.h"

#include "vk/check.h"

namespace vkvision::vk {

CommandBuffer::CommandBuffer(Context& context, VkCommandBuffer borrowed)
    : context_(context), buffer_(borrowed) {}

CommandBuffer::CommandBuffer(Context& context, bool simultaneous_use)
    : context_(context), simultaneous_use_(simultaneous_use) {
  VkCommandPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .queueFamilyIndex = context.queue_family()};
  VKV_CHECK(vkCreateCommandPool(context.device(), &pool_info, nullptr, &pool_));
  VkCommandBufferAllocateInfo allocate_info{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                            .commandPool = pool_,
                                            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                            .commandBufferCount = 1};
  VKV_CHECK(vkAllocateCommandBuffers(context.device(), &allocate_info, &buffer_));
}

CommandBuffer::~CommandBuffer() {
  if (pool_) vkDestroyCommandPool(context_.device(), pool_, nullptr);
}

void CommandBuffer::begin() {
  VkCommandBufferBeginInfo begin_info{
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags =
          simultaneous_use_ ? VkCommandBufferUsageFlags(VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT) : 0u};
  VKV_CHECK(vkBeginCommandBuffer(buffer_, &begin_info));
}

void CommandBuffer::end() { VKV_CHECK(vkEndCommandBuffer(buffer_)); }

void CommandBuffer::copy(const BufferSlice& source, const BufferSlice& destination) {
  VkBufferCopy region{.srcOffset = source.offset,
                      .dstOffset = destination.offset,
                      .size = std::min(source.size, destination.size)};
  vkCmdCopyBuffer(buffer_, source.buffer, destination.buffer, 1, &region);
}

void CommandBuffer::memory_barrier(VkPipelineStageFlags source_stage, VkAccessFlags source_access,
                                   VkPipelineStageFlags destination_stage, VkAccessFlags destination_access) {
  VkMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = source_access,
                          .dstAccessMask = destination_access};
  vkCmdPipelineBarrier(buffer_, source_stage, destination_stage, 0, 1, &barrier, 0, nullptr, 0, nullptr);
}

void CommandBuffer::barrier_compute_to_compute() {
  memory_barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}

void CommandBuffer::barrier_transfer_to_compute() {
  memory_barrier(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}

void CommandBuffer::barrier_compute_to_transfer() {
  memory_barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                 VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
}

void CommandBuffer::barrier_transfer_to_host() {
  memory_barrier(VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                 VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                 VK_ACCESS_HOST_READ_BIT);
}

void CommandBuffer::reset_queries(VkQueryPool pool, uint32_t first, uint32_t count) {
  vkCmdResetQueryPool(buffer_, pool, first, count);
}

void CommandBuffer::write_timestamp(VkQueryPool pool, uint32_t query) {
  vkCmdWriteTimestamp(buffer_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, pool, query);
}

}  // namespace vkvision::vk
