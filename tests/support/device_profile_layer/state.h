// Per-instance and per-device layer state: the next layer's functions and the active profile, kept
// in maps keyed by the loader's dispatch key and guarded by one mutex (contexts are made on several
// threads). The states themselves do not change after creation, except through their own locks.
#pragma once

#include "memory_model.h"
#include "profile.h"

#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace device_profile {

constexpr const char* kLayerName = "VK_LAYER_VKVISION_device_profile";

struct InstanceFunctions {
  PFN_vkGetInstanceProcAddr get_instance_proc_addr = nullptr;
  PFN_vkDestroyInstance destroy_instance = nullptr;
  PFN_vkEnumeratePhysicalDevices enumerate_physical_devices = nullptr;
  PFN_vkEnumerateDeviceExtensionProperties enumerate_device_extension_properties = nullptr;
  PFN_vkCreateDevice create_device = nullptr;
  PFN_vkGetPhysicalDeviceProperties get_properties = nullptr;
  PFN_vkGetPhysicalDeviceProperties2 get_properties2 = nullptr;
  PFN_vkGetPhysicalDeviceFeatures2 get_features2 = nullptr;
  PFN_vkGetPhysicalDeviceFormatProperties get_format_properties = nullptr;
  PFN_vkGetPhysicalDeviceFormatProperties2 get_format_properties2 = nullptr;
  PFN_vkGetPhysicalDeviceQueueFamilyProperties get_queue_family_properties = nullptr;
  PFN_vkGetPhysicalDeviceQueueFamilyProperties2 get_queue_family_properties2 = nullptr;
  PFN_vkGetPhysicalDeviceMemoryProperties get_memory_properties = nullptr;
  PFN_vkGetPhysicalDeviceMemoryProperties2 get_memory_properties2 = nullptr;
};

struct DeviceFunctions {
  PFN_vkGetDeviceProcAddr get_device_proc_addr = nullptr;
  PFN_vkDestroyDevice destroy_device = nullptr;
  PFN_vkAllocateMemory allocate_memory = nullptr;
  PFN_vkFreeMemory free_memory = nullptr;
  PFN_vkMapMemory map_memory = nullptr;
  PFN_vkUnmapMemory unmap_memory = nullptr;
  PFN_vkFlushMappedMemoryRanges flush_mapped_memory_ranges = nullptr;
  PFN_vkInvalidateMappedMemoryRanges invalidate_mapped_memory_ranges = nullptr;
  PFN_vkGetBufferMemoryRequirements get_buffer_memory_requirements = nullptr;
  PFN_vkGetBufferMemoryRequirements2 get_buffer_memory_requirements2 = nullptr;
  PFN_vkGetImageMemoryRequirements get_image_memory_requirements = nullptr;
  PFN_vkGetImageMemoryRequirements2 get_image_memory_requirements2 = nullptr;
  PFN_vkGetDeviceBufferMemoryRequirements get_device_buffer_memory_requirements = nullptr;
  PFN_vkGetDeviceImageMemoryRequirements get_device_image_memory_requirements = nullptr;
  PFN_vkCreateQueryPool create_query_pool = nullptr;
  PFN_vkDestroyQueryPool destroy_query_pool = nullptr;
  PFN_vkGetQueryPoolResults get_query_pool_results = nullptr;
};

// What the layer knows of one real physical device under a profile.
struct PhysicalDeviceState {
  std::shared_ptr<const MemoryModel> memory;
  std::shared_ptr<HeapUsage> usage = std::make_shared<HeapUsage>();
  float real_timestamp_period = 1.0f;
  bool real_has_memory_budget = false;
  bool real_has_portability_subset = false;
};

struct InstanceState {
  VkInstance instance = VK_NULL_HANDLE;
  InstanceFunctions next;
  std::shared_ptr<const Profile> profile;  // null: pass-through
  std::unordered_map<VkPhysicalDevice, PhysicalDeviceState> physical_devices;

  const PhysicalDeviceState* physical_device(VkPhysicalDevice handle) const {
    auto found = physical_devices.find(handle);
    return found == physical_devices.end() ? nullptr : &found->second;
  }
};

struct DeviceState {
  VkDevice device = VK_NULL_HANDLE;
  DeviceFunctions next;
  std::shared_ptr<const Profile> profile;  // null: pass-through
  std::shared_ptr<const MemoryModel> memory;
  std::unique_ptr<AllocationTracker> allocations;
  float real_timestamp_period = 1.0f;
  float profile_timestamp_period = 1.0f;  // the real one unless the profile sets limits.timestampPeriod
  std::mutex query_pools_mutex;
  std::unordered_set<VkQueryPool> timestamp_pools;
};

// The loader's dispatch table pointer: shared by an instance and its physical devices, and by a
// device and its queues and command buffers.
inline void* dispatch_key(const void* handle) { return *static_cast<void* const*>(handle); }

std::shared_ptr<InstanceState> find_instance(const void* handle);
std::shared_ptr<DeviceState> find_device(const void* handle);
void add_instance(const void* handle, std::shared_ptr<InstanceState> state);
void add_device(const void* handle, std::shared_ptr<DeviceState> state);
void remove_instance(const void* handle);
void remove_device(const void* handle);

// One line on stderr, prefixed with the layer's name.
void report_error(const std::string& message);

}  // namespace device_profile
