#include "vk/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

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

std::string heap_words(const Context& context, uint32_t heap) {
  const auto& memory = context.memory_properties();
  const bool device_local = memory.memoryHeaps[heap].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
  return "heap " + std::to_string(heap) + " (" + (device_local ? "device-local, " : "host, ") +
         mib(memory.memoryHeaps[heap].size) + ")";
}

// VK_EXT_memory_budget's budget and usage of one heap (every process's usage), when enabled.
std::optional<std::pair<VkDeviceSize, VkDeviceSize>> heap_budget(const Context& context, uint32_t heap) {
  if (!context.info().memory_budget) return std::nullopt;
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 memory{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                           .pNext = &budget};
  vkGetPhysicalDeviceMemoryProperties2(context.physical_device(), &memory);
  return std::make_pair(budget.heapBudget[heap], budget.heapUsage[heap]);
}

}  // namespace

VkDeviceSize binding_alignment(const DeviceInfo& info) {
  return std::max<VkDeviceSize>(
      {16, info.min_storage_buffer_offset_alignment, info.min_texel_buffer_offset_alignment});
}

VkDeviceSize max_arena_bytes(const DeviceInfo& info) {
  VkDeviceSize limit = ~VkDeviceSize(0);
  if (info.max_memory_allocation_size) limit = std::min<VkDeviceSize>(limit, info.max_memory_allocation_size);
  if (info.max_buffer_size) limit = std::min<VkDeviceSize>(limit, info.max_buffer_size);
  return limit;
}

bool device_memory_mappable(const Context& context) {
  return context.info().unified_memory;  // false under force_staging (Context::stage_device_memory)
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
  if (size_ > max_arena_bytes(context_->info()))
    throw DeviceError("internal: " + purpose + " needs " + mib(size_) +
                      " in one buffer, more than the device allows (" +
                      mib(max_arena_bytes(context_->info())) + ": maxMemoryAllocationSize/maxBufferSize)");
  VkBufferCreateInfo buffer_info{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                                 .size = size_,
                                 .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                          VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                                          VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                 .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  if (VkResult result = vkCreateBuffer(device, &buffer_info, nullptr, &buffer_); result != VK_SUCCESS) {
    buffer_ = VK_NULL_HANDLE;
    throw_allocation_failure(result, "vkCreateBuffer", purpose, size_);
  }
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device, buffer_, &requirements);
  const bool map_device_memory = device_memory_mappable(*context_);
  const auto& memory_properties = context_->memory_properties();
  const std::optional<uint32_t> type =
      choose_memory_type(memory_properties, requirements.memoryTypeBits, use, map_device_memory);
  if (!type) throw DeviceError("the Vulkan device has no memory type suitable for " + purpose);
  memory_type_ = *type;
  heap_ = memory_properties.memoryTypes[memory_type_].heapIndex;
  const VkDeviceSize heap_size = memory_properties.memoryHeaps[heap_].size;
  if (requirements.size > heap_size)
    throw DeviceError("out of device memory: " + purpose + " needs " + mib(requirements.size) +
                      ", more than all of " + heap_words(*context_, heap_));
  if (auto budget = heap_budget(*context_, heap_);
      budget && budget->second + requirements.size > budget->first)
    throw DeviceError("out of device memory: " + purpose + " needs " + mib(requirements.size) + ", " +
                      heap_words(*context_, heap_) + " has " +
                      mib(budget->first > budget->second ? budget->first - budget->second : 0) +
                      " of its budget left (VK_EXT_memory_budget: the device's other users hold the rest)");
  MemoryBudget& budget = context_->memory_budget();
  if (!budget.try_reserve(requirements.size))
    throw DeviceError("out of device memory: " + purpose + " needs " + mib(requirements.size) +
                      ", the device-memory budget has " + mib(budget.left()) + " of " + mib(budget.limit()) +
                      " left (DeviceOptions::device_memory_budget)");
  reserved_ = requirements.size;
  VkMemoryAllocateInfo allocate_info{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                     .allocationSize = requirements.size,
                                     .memoryTypeIndex = memory_type_};
  if (VkResult result = vkAllocateMemory(device, &allocate_info, nullptr, &memory_); result != VK_SUCCESS) {
    memory_ = VK_NULL_HANDLE;
    throw_allocation_failure(result, "vkAllocateMemory", purpose, requirements.size);
  }
  allocation_size_ = requirements.size;
  VKV_CHECK(vkBindBufferMemory(device, buffer_, memory_, 0));
  const VkMemoryPropertyFlags flags = memory_properties.memoryTypes[memory_type_].propertyFlags;
  coherent_ = flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const bool map =
      (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (use != MemoryUse::DeviceLocal || map_device_memory);
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
    throw DeviceError(std::string("out of ") + memory + " memory: " + purpose + " needs " + mib(bytes) +
                      ", " + call + " returned " + result_name(result) + " (vkvision holds " +
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
    throw DeviceError(what + " needs " + std::to_string(size) +
                      " bytes, more than the device's maxStorageBufferRange (" +
                      std::to_string(context_->info().max_storage_buffer_range) + ")");
  const VkDeviceSize offset = align_up(used_, alignment_);
  if (offset + size > size_)
    throw DeviceError("internal: arena of " + std::to_string(size_) + " bytes cannot hold " + what);
  used_ = offset + size;
  return slice(offset, size);
}

BufferSlice Arena::slice(VkDeviceSize offset, VkDeviceSize size) const {
  return BufferSlice{buffer_, offset, size, mapped_ ? mapped_ + offset : nullptr, this};
}

// The range widened to whole nonCoherentAtomSize atoms, ending at most at the allocation's end (the
// spec allows a size that reaches it).
VkMappedMemoryRange Arena::atom_range(VkDeviceSize offset, VkDeviceSize size) const {
  const VkDeviceSize atom = context_->info().non_coherent_atom_size;
  const VkDeviceSize end =
      size == VK_WHOLE_SIZE ? allocation_size_ : std::min(allocation_size_, offset + size);
  const VkDeviceSize start = offset / atom * atom;
  const VkDeviceSize rounded_end = std::min(align_up(end, atom), allocation_size_);
  return VkMappedMemoryRange{.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                             .memory = memory_,
                             .offset = start,
                             .size = rounded_end - start};
}

void Arena::flush(VkDeviceSize offset, VkDeviceSize size) const {
  if (!mapped_ || coherent_) return;
  const VkMappedMemoryRange range = atom_range(offset, size);
  VKV_CHECK(vkFlushMappedMemoryRanges(context_->device(), 1, &range));
}

void Arena::invalidate(VkDeviceSize offset, VkDeviceSize size) const {
  if (!mapped_ || coherent_) return;
  const VkMappedMemoryRange range = atom_range(offset, size);
  VKV_CHECK(vkInvalidateMappedMemoryRanges(context_->device(), 1, &range));
}

void BufferSlice::flush() const {
  if (arena && mapped) arena->flush(offset, size);
}

void BufferSlice::invalidate() const {
  if (arena && mapped) arena->invalidate(offset, size);
}

void upload(Context& context, const BufferSlice& destination, const void* data, size_t bytes) {
  if (bytes == 0) return;
  if (destination.mapped) {
    std::memcpy(destination.mapped, data, bytes);
    destination.flush();
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
    source.invalidate();
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
