// A device profile: what the layer reports instead of the real device (see README.md for the format).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace device_profile {

// One VkPhysicalDeviceLimits field a profile may override. Maximum-style limits may only go down,
// alignment-style limits only up (a power of two), so the real device can always honour the profile.
struct LimitField {
  enum class Kind { U32, U64, Float };
  enum class Direction { AtMostReal, AtLeastReal, Any };
  const char* name;
  Kind kind;
  Direction direction;
  size_t offset;   // offsetof(VkPhysicalDeviceLimits, field)
  uint32_t count;  // 3 for the work-group size/count arrays
};
const std::vector<LimitField>& limit_fields();

struct MemoryHeap {
  VkDeviceSize size = 0;
  VkMemoryHeapFlags flags = 0;
  double budget_fraction = 1.0;  // heapBudget reported through VK_EXT_memory_budget
};
struct MemoryType {
  VkMemoryPropertyFlags flags = 0;
  uint32_t heap = 0;
};

struct Profile {
  std::string name;  // file stem, appended to driverInfo
  std::string path;
  std::string description;
  std::string modelled_on;

  std::optional<VkPhysicalDeviceType> device_type;
  std::optional<uint32_t> vendor_id, device_id, api_version;
  std::optional<std::string> device_name;

  // Limit overrides: index into limit_fields() -> value(s), stored as double (exact for these ranges).
  std::map<size_t, std::vector<double>> limits;

  std::optional<uint32_t> subgroup_size, min_subgroup_size, max_subgroup_size;
  std::optional<VkDeviceSize> max_memory_allocation_size, max_buffer_size;
  std::optional<uint32_t> timestamp_valid_bits;

  bool disable_shader_float16 = false;
  bool disable_storage_buffer_16bit = false;

  std::map<VkFormat, VkFormatFeatureFlags> removed_buffer_features;
  std::map<VkFormat, VkFormatFeatureFlags> removed_optimal_tiling_features;

  std::vector<MemoryHeap> heaps;  // empty: the real heaps and types pass through
  std::vector<MemoryType> types;
  bool memory_budget = false;

  std::optional<VkPhysicalDevicePortabilitySubsetFeaturesKHR> portability_subset;
  std::optional<uint32_t> min_vertex_input_binding_stride_alignment;
};

// Resolves a profile name ("spec_minimum") to the profiles directory, or a value with '/' as a path.
std::string resolve_profile_path(const std::string& name_or_path);

// Reads and checks a profile; throws std::runtime_error with a one-line message naming the file.
Profile load_profile(const std::string& name_or_path);

// What the profile is checked against besides VkPhysicalDeviceProperties.
struct RealExtras {
  VkDeviceSize max_memory_allocation_size = 0;
  VkDeviceSize max_buffer_size = 0;
  uint32_t timestamp_valid_bits = 0;  // the lowest over the queue families that have timestamps
};

// Throws std::runtime_error (one line) when the profile reports more than the real device has.
void check_against_real_device(const Profile& profile, const VkPhysicalDeviceProperties& real,
                               const RealExtras& extras);

}  // namespace device_profile
