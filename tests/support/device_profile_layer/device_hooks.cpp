// Device-level hooks: memory-type translation, heap accounting, non-coherent shadow maps and
// timestamp masking. Without a profile every hook calls straight down.
#include "hooks.h"
#include "state.h"

#include <cstring>

namespace device_profile {
namespace {

void translate(const DeviceState& device, VkMemoryRequirements& requirements) {
  if (device.profile)
    requirements.memoryTypeBits = device.memory->to_profile_bits(requirements.memoryTypeBits);
}

}  // namespace

VKAPI_ATTR VkResult VKAPI_CALL AllocateMemory(VkDevice handle, const VkMemoryAllocateInfo* info,
                                              const VkAllocationCallbacks* allocator,
                                              VkDeviceMemory* memory) {
  auto device = find_device(handle);
  if (!device->profile) return device->next.allocate_memory(handle, info, allocator, memory);
  uint32_t real_type = 0;
  VkResult result = device->allocations->reserve(info->memoryTypeIndex, info->allocationSize, real_type);
  if (result != VK_SUCCESS) return result;
  VkMemoryAllocateInfo real_info = *info;  // pNext (dedicated, flags...) goes down unchanged
  real_info.memoryTypeIndex = real_type;
  result = device->next.allocate_memory(handle, &real_info, allocator, memory);
  if (result != VK_SUCCESS) {
    device->allocations->unreserve(info->memoryTypeIndex, info->allocationSize);
    return result;
  }
  device->allocations->add(*memory, info->memoryTypeIndex, info->allocationSize);
  return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL FreeMemory(VkDevice handle, VkDeviceMemory memory,
                                      const VkAllocationCallbacks* allocator) {
  auto device = find_device(handle);
  if (device->profile && memory) device->allocations->remove(memory);
  device->next.free_memory(handle, memory, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL MapMemory(VkDevice handle, VkDeviceMemory memory, VkDeviceSize offset,
                                         VkDeviceSize size, VkMemoryMapFlags flags, void** data) {
  auto device = find_device(handle);
  if (!device->profile) return device->next.map_memory(handle, memory, offset, size, flags, data);
  if (!device->allocations->may_map(memory)) return VK_ERROR_MEMORY_MAP_FAILED;
  void* real = nullptr;
  const VkResult result = device->next.map_memory(handle, memory, offset, size, flags, &real);
  if (result != VK_SUCCESS) return result;
  *data = device->allocations->on_map(memory, offset, size, real);
  return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL UnmapMemory(VkDevice handle, VkDeviceMemory memory) {
  auto device = find_device(handle);
  if (device->profile) device->allocations->on_unmap(memory);
  device->next.unmap_memory(handle, memory);
}

VKAPI_ATTR VkResult VKAPI_CALL FlushMappedMemoryRanges(VkDevice handle, uint32_t count,
                                                       const VkMappedMemoryRange* ranges) {
  auto device = find_device(handle);
  if (device->profile)
    for (uint32_t i = 0; i < count; ++i) device->allocations->flush(ranges[i]);
  return device->next.flush_mapped_memory_ranges(handle, count, ranges);
}

VKAPI_ATTR VkResult VKAPI_CALL InvalidateMappedMemoryRanges(VkDevice handle, uint32_t count,
                                                            const VkMappedMemoryRange* ranges) {
  auto device = find_device(handle);
  const VkResult result = device->next.invalidate_mapped_memory_ranges(handle, count, ranges);
  if (device->profile && result == VK_SUCCESS)
    for (uint32_t i = 0; i < count; ++i) device->allocations->invalidate(ranges[i]);
  return result;
}

VKAPI_ATTR void VKAPI_CALL GetBufferMemoryRequirements(VkDevice handle, VkBuffer buffer,
                                                       VkMemoryRequirements* requirements) {
  auto device = find_device(handle);
  device->next.get_buffer_memory_requirements(handle, buffer, requirements);
  translate(*device, *requirements);
}

VKAPI_ATTR void VKAPI_CALL GetBufferMemoryRequirements2(VkDevice handle,
                                                        const VkBufferMemoryRequirementsInfo2* info,
                                                        VkMemoryRequirements2* requirements) {
  auto device = find_device(handle);
  device->next.get_buffer_memory_requirements2(handle, info, requirements);
  translate(*device, requirements->memoryRequirements);
}

VKAPI_ATTR void VKAPI_CALL GetImageMemoryRequirements(VkDevice handle, VkImage image,
                                                      VkMemoryRequirements* requirements) {
  auto device = find_device(handle);
  device->next.get_image_memory_requirements(handle, image, requirements);
  translate(*device, *requirements);
}

VKAPI_ATTR void VKAPI_CALL GetImageMemoryRequirements2(VkDevice handle,
                                                       const VkImageMemoryRequirementsInfo2* info,
                                                       VkMemoryRequirements2* requirements) {
  auto device = find_device(handle);
  device->next.get_image_memory_requirements2(handle, info, requirements);
  translate(*device, requirements->memoryRequirements);
}

VKAPI_ATTR void VKAPI_CALL GetDeviceBufferMemoryRequirements(VkDevice handle,
                                                             const VkDeviceBufferMemoryRequirements* info,
                                                             VkMemoryRequirements2* requirements) {
  auto device = find_device(handle);
  device->next.get_device_buffer_memory_requirements(handle, info, requirements);
  translate(*device, requirements->memoryRequirements);
}

VKAPI_ATTR void VKAPI_CALL GetDeviceImageMemoryRequirements(VkDevice handle,
                                                            const VkDeviceImageMemoryRequirements* info,
                                                            VkMemoryRequirements2* requirements) {
  auto device = find_device(handle);
  device->next.get_device_image_memory_requirements(handle, info, requirements);
  translate(*device, requirements->memoryRequirements);
}

VKAPI_ATTR VkResult VKAPI_CALL CreateQueryPool(VkDevice handle, const VkQueryPoolCreateInfo* info,
                                               const VkAllocationCallbacks* allocator, VkQueryPool* pool) {
  auto device = find_device(handle);
  const VkResult result = device->next.create_query_pool(handle, info, allocator, pool);
  if (result == VK_SUCCESS && device->profile && info->queryType == VK_QUERY_TYPE_TIMESTAMP) {
    std::lock_guard lock(device->query_pools_mutex);
    device->timestamp_pools.insert(*pool);
  }
  return result;
}

VKAPI_ATTR void VKAPI_CALL DestroyQueryPool(VkDevice handle, VkQueryPool pool,
                                            const VkAllocationCallbacks* allocator) {
  auto device = find_device(handle);
  {
    std::lock_guard lock(device->query_pools_mutex);
    device->timestamp_pools.erase(pool);
  }
  device->next.destroy_query_pool(handle, pool, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL GetQueryPoolResults(VkDevice handle, VkQueryPool pool, uint32_t first,
                                                   uint32_t count, size_t data_size, void* data,
                                                   VkDeviceSize stride, VkQueryResultFlags flags) {
  auto device = find_device(handle);
  const VkResult result =
      device->next.get_query_pool_results(handle, pool, first, count, data_size, data, stride, flags);
  if (!device->profile || (result != VK_SUCCESS && result != VK_NOT_READY)) return result;
  {
    std::lock_guard lock(device->query_pools_mutex);
    if (!device->timestamp_pools.count(pool)) return result;
  }
  const uint32_t bits = device->profile->timestamp_valid_bits.value_or(64);
  const double scale = device->real_timestamp_period / device->profile_timestamp_period;
  const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  const bool wide = flags & VK_QUERY_RESULT_64_BIT;
  const bool with_availability = flags & VK_QUERY_RESULT_WITH_AVAILABILITY_BIT;
  for (uint32_t i = 0; i < count; ++i) {
    auto* slot = static_cast<char*>(data) + i * stride;
    uint64_t value = 0, available = 1;
    if (wide) {
      std::memcpy(&value, slot, 8);
      if (with_availability) std::memcpy(&available, slot + 8, 8);
    } else {
      uint32_t narrow = 0, narrow_available = 1;
      std::memcpy(&narrow, slot, 4);
      if (with_availability) std::memcpy(&narrow_available, slot + 4, 4);
      value = narrow;
      available = narrow_available;
    }
    if (!available) continue;
    // Real ticks -> the profile's ticks, then only the valid bits, so a counter wrap really happens.
    if (scale != 1.0) value = static_cast<uint64_t>(static_cast<double>(value) * scale);
    value &= mask;
    if (wide) {
      std::memcpy(slot, &value, 8);
    } else {
      const uint32_t narrow = static_cast<uint32_t>(value);
      std::memcpy(slot, &narrow, 4);
    }
  }
  return result;
}

}  // namespace device_profile
