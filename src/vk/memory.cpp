#include "vk/memory.h"

#include <algorithm>

#include <cstdio>
#include <cstring>

#include "vk/check.h"
#include "vk/command.h"

namespace vkvision::vk {
namespace {

// One decimal, so "needs 1.5 MiB, 1.2 MiB left" does not round to equal figures; bytes below 0.1 MiB.
std::string mib(VkDeviceSize bytes) {
  if (bytes < (1 << 20) / 10) return std::to_string(bytes) + " bytes";
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", double(bytes) / (1 << 20));
  return text;
}

// Picks the memory type for a use: the first type allowed by the buffer with all required flags,
// preferring one with the wanted extras (e.g. host-cached for readback).
uint32_t choose_memory_type(const Context& context, uint32_t allowed_types, MemoryUse use) {
  const auto& properties = context.memory_properties();
  VkMemoryPropertyFlags required = 0, preferred = 0;
  switch (use) {
    case MemoryUse::DeviceLocal:
      required = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      if (device_memory_mappable(context)) preferred = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
      break;
    case MemoryUse::Upload:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
      preferred = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      break;
    case MemoryUse::Readback:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
      preferred = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
      break;
  }
  int fallback = -1;
  for (uint32_t i = 0; i < properties.memoryTypeCount; ++i) {
    if (!(allowed_types & (1u << i))) continue;
    VkMemoryPropertyFlags flags = properties.memoryTypes[i].propertyFlags;
    if ((flags & required) != required) continue;
    if ((flags & preferred) == preferred) return i;
    if (fallback < 0) fallback = static_cast<int>(i);
  }
  if (fallback < 0) throw DeviceError("the Vulkan device has no memory type suitable for this buffer");
  return static_cast<uint32_t>(fallback);
}

}  // namespace

VkDeviceSize binding_alignment(const DeviceInfo& info) {
  return std::max<VkDeviceSize>({16, info.min_storage_buffer_offset_alignment, info.min_texel_buffer_offset_alignment});
}

bool device_memory_mappable(const Context& context) {
  return context.info().unified_memory && !context.force_staging();
}

Arena::Arena(std::shared_ptr<Context> context, VkDeviceSize size, MemoryUse use, const std::string& purpose)
    : context_(std::move(context)), size_(size) {
  alignment_ = binding_alignment(context_->info());
  if (size == 0) return;
  context_->throw_if_lost();
  try {
    create(use, purpose);
  } catch (...) {
    destroy();  // a half-built arena holds nothing, budget included
    throw;
  }
}

void Arena::create(MemoryUse use, const std::string& purpose) {
  VkDevice device = context_->device();
  VkBufferCreateInfo buffer_info{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                                 .size = size_,
                                 .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                                          VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                          VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                 .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  if (VkResult result = vkCreateBuffer(device, &buffer_info, nullptr, &buffer_); result != VK_SUCCESS) {
    buffer_ = VK_NULL_HANDLE;
    throw_allocation_failure(result, "vkCreateBuffer", purpose, size_);
  }
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device, buffer_, &requirements);
  const uint32_t type = choose_memory_type(*context_, requirements.memoryTypeBits, use);
  const auto& memory_properties = context_->memory_properties();
  const VkDeviceSize heap_size = memory_properties.memoryHeaps[memory_properties.memoryTypes[type].heapIndex].size;
  if (requirements.size > heap_size)
    throw DeviceError("out of device memory: " + purpose + " needs " + mib(requirements.size) +
                      ", the device's memory heap has " + mib(heap_size) + " in all");
  MemoryBudget& budget = context_->memory_budget();
  if (!budget.try_reserve(requirements.size))
    throw DeviceError("out of device memory: " + purpose + " needs " + mib(requirements.size) +
                      ", the device-memory budget has " + mib(budget.left()) + " of " + mib(budget.limit()) +
                      " left (DeviceOptions::device_memory_budget)");
  reserved_ = requirements.size;
  VkMemoryAllocateInfo allocate_info{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                     .allocationSize = requirements.size,
                                     .memoryTypeIndex = type};
  if (VkResult result = vkAllocateMemory(device, &allocate_info, nullptr, &memory_); result != VK_SUCCESS) {
    memory_ = VK_NULL_HANDLE;
    throw_allocation_failure(result, "vkAllocateMemory", purpose, requirements.size);
  }
  VKV_CHECK(vkBindBufferMemory(device, buffer_, memory_, 0));
  const VkMemoryPropertyFlags flags = memory_properties.memoryTypes[type].propertyFlags;
  coherent_ = flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const bool map = (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
                   (use != MemoryUse::DeviceLocal || device_memory_mappable(*context_));
  if (map) {
    void* pointer = nullptr;
    VKV_CHECK(vkMapMemory(device, memory_, 0, VK_WHOLE_SIZE, 0, &pointer));
    mapped_ = static_cast<std::byte*>(pointer);
  }
}

// What vkCreateBuffer or vkAllocateMemory failing means for the caller: out of memory (device or
// host) as the same one-line error the budget gives, anything else as the call's own error.
void Arena::throw_allocation_failure(VkResult result, const char* call, const std::string& purpose,
                                     VkDeviceSize bytes) const {
  if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY) {
    const char* memory = result == VK_ERROR_OUT_OF_DEVICE_MEMORY ? "device" : "host";
    throw DeviceError(std::string("out of ") + memory + " memory: " + purpose + " needs " + mib(bytes) + ", " + call +
                      " returned " + result_name(result) + " (vkvision holds " +
                      mib(context_->memory_budget().held() - reserved_) + " of device memory)");
  }
  throw_vk_error(result, call, __FILE__, __LINE__);
}

void Arena::destroy() {
  VkDevice device = context_->device();
  if (mapped_) vkUnmapMemory(device, memory_);
  if (buffer_) vkDestroyBuffer(device, buffer_, nullptr);
  if (memory_) vkFreeMemory(device, memory_, nullptr);
  if (reserved_) context_->memory_budget().release(reserved_);
  mapped_ = nullptr;
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  reserved_ = 0;
}

Arena::~Arena() {
  // Freeing memory a hung submit may still read or write would be undefined; leaking it is not.
  if (context_->submitted_work_may_be_running()) return;
  destroy();
}

BufferSlice Arena::allocate(VkDeviceSize size, const std::string& what) {
  if (size > context_->info().max_storage_buffer_range)
    throw DeviceError(what + " needs " + std::to_string(size) + " bytes, more than the device's maxStorageBufferRange (" +
                      std::to_string(context_->info().max_storage_buffer_range) + ")");
  const VkDeviceSize offset = align_up(used_, alignment_);
  if (offset + size > size_)
    throw DeviceError("internal: arena of " + std::to_string(size_) + " bytes cannot hold " + what);
  used_ = offset + size;
  return slice(offset, size);
}

BufferSlice Arena::slice(VkDeviceSize offset, VkDeviceSize size) const {
  return BufferSlice{buffer_, offset, size, mapped_ ? mapped_ + offset : nullptr};
}

void Arena::flush() const {
  if (!mapped_ || coherent_) return;
  VkMappedMemoryRange range{.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory_, .offset = 0, .size = VK_WHOLE_SIZE};
  VKV_CHECK(vkFlushMappedMemoryRanges(context_->device(), 1, &range));
}

void Arena::invalidate() const {
  if (!mapped_ || coherent_) return;
  VkMappedMemoryRange range{.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory_, .offset = 0, .size = VK_WHOLE_SIZE};
  VKV_CHECK(vkInvalidateMappedMemoryRanges(context_->device(), 1, &range));
}

void upload(Context& context, const BufferSlice& destination, const void* data, size_t bytes) {
  if (bytes == 0) return;
  if (destination.mapped) {
    std::memcpy(destination.mapped, data, bytes);
    return;
  }
  auto shared = std::shared_ptr<Context>(&context, [](Context*) {});
  Arena staging(shared, bytes, MemoryUse::Upload, "upload staging buffer");
  std::memcpy(staging.slice(0, bytes).mapped, data, bytes);
  staging.flush();
  CommandBuffer commands(context);
  commands.begin();
  commands.copy(staging.slice(0, bytes), destination);
  commands.end();
  context.submit_and_wait(commands.handle());
}

void download(Context& context, const BufferSlice& source, void* data, size_t bytes) {
  if (bytes == 0) return;
  if (source.mapped) {
    std::memcpy(data, source.mapped, bytes);
    return;
  }
  auto shared = std::shared_ptr<Context>(&context, [](Context*) {});
  Arena staging(shared, bytes, MemoryUse::Readback, "download staging buffer");
  CommandBuffer commands(context);
  commands.begin();
  commands.copy(source, staging.slice(0, bytes));
  commands.barrier_transfer_to_host();
  commands.end();
  context.submit_and_wait(commands.handle());
  staging.invalidate();
  std::memcpy(data, staging.slice(0, bytes).mapped, bytes);
}

}  // namespace vkvision::vk
