// The profile's memory heaps and types over the real ones: type translation, per-heap accounting and
// the shadow copies that make a non-coherent profile type behave non-coherently on lavapipe.
#pragma once

#include "profile.h"

#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace device_profile {

class MemoryModel {
 public:
  // Without profile heaps, the real heaps and types are the profile's (identity translation).
  // Throws std::runtime_error when a profile type has no real type whose flags cover it.
  MemoryModel(const Profile& profile, const VkPhysicalDeviceMemoryProperties& real);

  const VkPhysicalDeviceMemoryProperties& reported() const { return reported_; }
  const std::vector<double>& budget_fractions() const { return budget_fractions_; }
  // Real memoryTypeBits -> every profile type whose real type is allowed.
  uint32_t to_profile_bits(uint32_t real_bits) const;
  uint32_t real_type(uint32_t profile_type) const { return real_type_[profile_type]; }
  uint32_t type_count() const { return reported_.memoryTypeCount; }

 private:
  VkPhysicalDeviceMemoryProperties reported_{};
  std::vector<uint32_t> real_type_;
  std::vector<double> budget_fractions_;
};

// What is allocated on each profile heap of one physical device, over all its logical devices.
struct HeapUsage {
  std::mutex mutex;
  std::array<VkDeviceSize, VK_MAX_MEMORY_HEAPS> used{};
};

// The live allocations of one logical device.
class AllocationTracker {
 public:
  AllocationTracker(std::shared_ptr<const MemoryModel> model, std::shared_ptr<HeapUsage> usage,
                    VkDeviceSize max_allocation_size)
      : model_(std::move(model)), usage_(std::move(usage)), max_allocation_size_(max_allocation_size) {}
  // Releases the heap space of allocations the application never freed (vkDestroyDevice frees them).
  ~AllocationTracker();

  // Checks the request against the heap and the allocation size limit and reserves it; returns the
  // real type index through real_type, or an error to return from vkAllocateMemory.
  VkResult reserve(uint32_t profile_type, VkDeviceSize size, uint32_t& real_type);
  void unreserve(uint32_t profile_type, VkDeviceSize size);
  void add(VkDeviceMemory memory, uint32_t profile_type, VkDeviceSize size);
  void remove(VkDeviceMemory memory);  // also releases the heap space and any shadow

  // Map: given the driver's pointer to the mapped range, returns what the application gets (the
  // real pointer or a 0xFF-filled shadow). Fails for memory whose profile type is not HOST_VISIBLE.
  bool may_map(VkDeviceMemory memory) const;
  void* on_map(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size, void* real);
  void on_unmap(VkDeviceMemory memory);
  void flush(const VkMappedMemoryRange& range);       // shadow -> real
  void invalidate(const VkMappedMemoryRange& range);  // real -> shadow

 private:
  struct Allocation {
    uint32_t profile_type = 0;
    VkDeviceSize size = 0;
    // While mapped with a shadow: the driver's pointer to map_offset, and the copy handed out.
    uint8_t* real = nullptr;
    VkDeviceSize map_offset = 0;
    std::vector<uint8_t> shadow;
  };
  bool non_coherent(uint32_t profile_type) const;
  // The part of a range inside the shadowed mapping, as [begin, end) offsets into the mapping.
  bool clamp(const Allocation& allocation, const VkMappedMemoryRange& range, VkDeviceSize& begin,
             VkDeviceSize& end) const;

  std::shared_ptr<const MemoryModel> model_;
  std::shared_ptr<HeapUsage> usage_;
  VkDeviceSize max_allocation_size_;
  mutable std::mutex mutex_;
  std::unordered_map<VkDeviceMemory, Allocation> allocations_;
};

}  // namespace device_profile
