#include "memory_model.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace device_profile {

MemoryModel::MemoryModel(const Profile& profile, const VkPhysicalDeviceMemoryProperties& real) {
  if (profile.heaps.empty()) {
    reported_ = real;
    for (uint32_t i = 0; i < real.memoryTypeCount; ++i) real_type_.push_back(i);
    budget_fractions_.assign(real.memoryHeapCount, 1.0);
    return;
  }
  reported_.memoryHeapCount = static_cast<uint32_t>(profile.heaps.size());
  for (size_t i = 0; i < profile.heaps.size(); ++i) {
    reported_.memoryHeaps[i] = {profile.heaps[i].size, profile.heaps[i].flags};
    budget_fractions_.push_back(profile.heaps[i].budget_fraction);
  }
  reported_.memoryTypeCount = static_cast<uint32_t>(profile.types.size());
  for (size_t i = 0; i < profile.types.size(); ++i) {
    const MemoryType& type = profile.types[i];
    reported_.memoryTypes[i] = {type.flags, type.heap};
    // A non-coherent profile type may sit on coherent real memory: the shadow copies supply the
    // non-coherence. Every other flag must be real.
    uint32_t chosen = UINT32_MAX;
    for (uint32_t r = 0; r < real.memoryTypeCount && chosen == UINT32_MAX; ++r)
      if ((real.memoryTypes[r].propertyFlags & type.flags) == type.flags) chosen = r;
    if (chosen == UINT32_MAX)
      throw std::runtime_error("memory.types[" + std::to_string(i) +
                               "] has flags no real memory type covers");
    real_type_.push_back(chosen);
  }
}

uint32_t MemoryModel::to_profile_bits(uint32_t real_bits) const {
  uint32_t bits = 0;
  for (uint32_t i = 0; i < real_type_.size(); ++i)
    if (real_bits & (1u << real_type_[i])) bits |= 1u << i;
  return bits;
}

bool AllocationTracker::non_coherent(uint32_t profile_type) const {
  const VkMemoryPropertyFlags flags = model_->reported().memoryTypes[profile_type].propertyFlags;
  return (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && !(flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
}

VkResult AllocationTracker::reserve(uint32_t profile_type, VkDeviceSize size, uint32_t& real_type) {
  // An out-of-range index is an application error the validation layer above reports; the layer
  // must not index past its tables, so it refuses the allocation.
  if (profile_type >= model_->type_count()) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  if (max_allocation_size_ && size > max_allocation_size_) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  const uint32_t heap = model_->reported().memoryTypes[profile_type].heapIndex;
  const VkDeviceSize heap_size = model_->reported().memoryHeaps[heap].size;
  std::lock_guard lock(usage_->mutex);
  if (size > heap_size - usage_->used[heap]) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  usage_->used[heap] += size;
  real_type = model_->real_type(profile_type);
  return VK_SUCCESS;
}

void AllocationTracker::unreserve(uint32_t profile_type, VkDeviceSize size) {
  const uint32_t heap = model_->reported().memoryTypes[profile_type].heapIndex;
  std::lock_guard lock(usage_->mutex);
  usage_->used[heap] -= size;
}

AllocationTracker::~AllocationTracker() {
  for (const auto& [memory, allocation] : allocations_) unreserve(allocation.profile_type, allocation.size);
}

void AllocationTracker::add(VkDeviceMemory memory, uint32_t profile_type, VkDeviceSize size) {
  std::lock_guard lock(mutex_);
  allocations_[memory] = Allocation{.profile_type = profile_type, .size = size};
}

void AllocationTracker::remove(VkDeviceMemory memory) {
  uint32_t profile_type = 0;
  VkDeviceSize size = 0;
  {
    std::lock_guard lock(mutex_);
    auto found = allocations_.find(memory);
    if (found == allocations_.end()) return;
    profile_type = found->second.profile_type;
    size = found->second.size;
    allocations_.erase(found);
  }
  unreserve(profile_type, size);
}

bool AllocationTracker::may_map(VkDeviceMemory memory) const {
  std::lock_guard lock(mutex_);
  auto found = allocations_.find(memory);
  if (found == allocations_.end()) return true;  // not ours to judge; the driver decides
  return model_->reported().memoryTypes[found->second.profile_type].propertyFlags &
         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
}

void* AllocationTracker::on_map(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size, void* real) {
  std::lock_guard lock(mutex_);
  auto found = allocations_.find(memory);
  if (found == allocations_.end() || !non_coherent(found->second.profile_type)) return real;
  Allocation& allocation = found->second;
  const VkDeviceSize length = size == VK_WHOLE_SIZE ? allocation.size - offset : size;
  allocation.real = static_cast<uint8_t*>(real);
  allocation.map_offset = offset;
  // 0xFF bytes read as NaN floats: a host read without vkInvalidateMappedMemoryRanges shows.
  allocation.shadow.assign(length, 0xFF);
  return allocation.shadow.data();
}

void AllocationTracker::on_unmap(VkDeviceMemory memory) {
  std::lock_guard lock(mutex_);
  auto found = allocations_.find(memory);
  if (found == allocations_.end()) return;
  // Unmapping does not flush: writes never flushed are lost, as on a non-coherent device.
  found->second.real = nullptr;
  found->second.shadow = {};
}

bool AllocationTracker::clamp(const Allocation& allocation, const VkMappedMemoryRange& range,
                              VkDeviceSize& begin, VkDeviceSize& end) const {
  const VkDeviceSize map_end = allocation.map_offset + allocation.shadow.size();
  const VkDeviceSize range_begin = std::max(range.offset, allocation.map_offset);
  VkDeviceSize range_end = map_end;  // VK_WHOLE_SIZE: to the end of the mapping
  if (range.size != VK_WHOLE_SIZE && range.offset < map_end)
    range_end = range.offset + std::min(range.size, map_end - range.offset);
  if (range_begin >= range_end) return false;
  begin = range_begin - allocation.map_offset;
  end = range_end - allocation.map_offset;
  return true;
}

void AllocationTracker::flush(const VkMappedMemoryRange& range) {
  std::lock_guard lock(mutex_);
  auto found = allocations_.find(range.memory);
  if (found == allocations_.end() || !found->second.real) return;
  VkDeviceSize begin = 0, end = 0;
  if (clamp(found->second, range, begin, end))
    std::memcpy(found->second.real + begin, found->second.shadow.data() + begin, end - begin);
}

void AllocationTracker::invalidate(const VkMappedMemoryRange& range) {
  std::lock_guard lock(mutex_);
  auto found = allocations_.find(range.memory);
  if (found == allocations_.end() || !found->second.real) return;
  VkDeviceSize begin = 0, end = 0;
  if (clamp(found->second, range, begin, end))
    std::memcpy(found->second.shadow.data() + begin, found->second.real + begin, end - begin);
}

}  // namespace device_profile
