// Edits what the real driver reports (properties, features, formats, queue families) to the profile's.
#pragma once

#include "profile.h"

#include <vulkan/vulkan.h>

namespace device_profile {

void apply_properties(const Profile& profile, VkPhysicalDeviceProperties& properties);
// The pNext chain of VkPhysicalDeviceProperties2 (subgroup, Vulkan11/12/13, maintenance, driver...).
void apply_property_chain(const Profile& profile, void* chain);
// The pNext chain of VkPhysicalDeviceFeatures2: features the profile turns off, the portability subset.
void apply_feature_chain(const Profile& profile, void* chain);
void apply_format(const Profile& profile, VkFormat format, VkFormatProperties& properties);
void apply_format_chain(const Profile& profile, VkFormat format, void* chain);
void apply_queue_family(const Profile& profile, VkQueueFamilyProperties& family);

// The structure of type sType in a pNext chain, or nullptr.
template <typename T>
T* find_in_chain(void* chain, VkStructureType type) {
  for (auto* node = static_cast<VkBaseOutStructure*>(chain); node; node = node->pNext)
    if (node->sType == type) return reinterpret_cast<T*>(node);
  return nullptr;
}

}  // namespace device_profile
