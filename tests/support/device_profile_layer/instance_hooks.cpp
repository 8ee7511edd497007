// Physical-device queries: call the next layer, then report the profile's values.
#include "hooks.h"
#include "properties.h"
#include "state.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace device_profile {

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceProperties(VkPhysicalDevice physical_device,
                                                       VkPhysicalDeviceProperties* properties) {
  auto instance = find_instance(physical_device);
  instance->next.get_properties(physical_device, properties);
  if (instance->profile) apply_properties(*instance->profile, *properties);
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceProperties2(VkPhysicalDevice physical_device,
                                                        VkPhysicalDeviceProperties2* properties) {
  auto instance = find_instance(physical_device);
  instance->next.get_properties2(physical_device, properties);
  if (!instance->profile) return;
  apply_properties(*instance->profile, properties->properties);
  apply_property_chain(*instance->profile, properties->pNext);
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceFeatures2(VkPhysicalDevice physical_device,
                                                      VkPhysicalDeviceFeatures2* features) {
  auto instance = find_instance(physical_device);
  instance->next.get_features2(physical_device, features);
  if (instance->profile) apply_feature_chain(*instance->profile, features->pNext);
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceFormatProperties(VkPhysicalDevice physical_device,
                                                             VkFormat format,
                                                             VkFormatProperties* properties) {
  auto instance = find_instance(physical_device);
  instance->next.get_format_properties(physical_device, format, properties);
  if (instance->profile) apply_format(*instance->profile, format, *properties);
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceFormatProperties2(VkPhysicalDevice physical_device,
                                                              VkFormat format,
                                                              VkFormatProperties2* properties) {
  auto instance = find_instance(physical_device);
  instance->next.get_format_properties2(physical_device, format, properties);
  if (!instance->profile) return;
  apply_format(*instance->profile, format, properties->formatProperties);
  apply_format_chain(*instance->profile, format, properties->pNext);
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceQueueFamilyProperties(VkPhysicalDevice physical_device,
                                                                  uint32_t* count,
                                                                  VkQueueFamilyProperties* families) {
  auto instance = find_instance(physical_device);
  instance->next.get_queue_family_properties(physical_device, count, families);
  if (instance->profile && families)
    for (uint32_t i = 0; i < *count; ++i) apply_queue_family(*instance->profile, families[i]);
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceQueueFamilyProperties2(VkPhysicalDevice physical_device,
                                                                   uint32_t* count,
                                                                   VkQueueFamilyProperties2* families) {
  auto instance = find_instance(physical_device);
  instance->next.get_queue_family_properties2(physical_device, count, families);
  if (instance->profile && families)
    for (uint32_t i = 0; i < *count; ++i)
      apply_queue_family(*instance->profile, families[i].queueFamilyProperties);
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceMemoryProperties(VkPhysicalDevice physical_device,
                                                             VkPhysicalDeviceMemoryProperties* properties) {
  auto instance = find_instance(physical_device);
  const PhysicalDeviceState* state = instance->profile ? instance->physical_device(physical_device) : nullptr;
  if (!state) return instance->next.get_memory_properties(physical_device, properties);
  *properties = state->memory->reported();
}

VKAPI_ATTR void VKAPI_CALL GetPhysicalDeviceMemoryProperties2(VkPhysicalDevice physical_device,
                                                              VkPhysicalDeviceMemoryProperties2* properties) {
  auto instance = find_instance(physical_device);
  const PhysicalDeviceState* state = instance->profile ? instance->physical_device(physical_device) : nullptr;
  if (!state) return instance->next.get_memory_properties2(physical_device, properties);
  // Not called down: the heaps and types are all the profile's, and lavapipe would not know the
  // budget structure the layer fills.
  properties->memoryProperties = state->memory->reported();
  auto* budget = find_in_chain<VkPhysicalDeviceMemoryBudgetPropertiesEXT>(
      properties->pNext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT);
  if (!budget || !instance->profile->memory_budget) return;
  const VkPhysicalDeviceMemoryProperties& memory = state->memory->reported();
  std::lock_guard lock(state->usage->mutex);
  for (uint32_t i = 0; i < VK_MAX_MEMORY_HEAPS; ++i) {
    const bool exists = i < memory.memoryHeapCount;
    budget->heapBudget[i] = exists
                                ? static_cast<VkDeviceSize>(static_cast<double>(memory.memoryHeaps[i].size) *
                                                            state->memory->budget_fractions()[i])
                                : 0;
    budget->heapUsage[i] = exists ? state->usage->used[i] : 0;
  }
}

namespace {

// The extensions the layer adds for the instance's profile.
std::vector<VkExtensionProperties> layer_extensions(const Profile* profile) {
  std::vector<VkExtensionProperties> extensions;
  auto add = [&](const char* name, uint32_t version) {
    VkExtensionProperties properties{};
    std::strncpy(properties.extensionName, name, VK_MAX_EXTENSION_NAME_SIZE - 1);
    properties.specVersion = version;
    extensions.push_back(properties);
  };
  if (profile && profile->memory_budget)
    add(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME, VK_EXT_MEMORY_BUDGET_SPEC_VERSION);
  if (profile && profile->portability_subset)
    add(VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME, VK_KHR_PORTABILITY_SUBSET_SPEC_VERSION);
  return extensions;
}

VkResult write_out(const std::vector<VkExtensionProperties>& extensions, uint32_t* count,
                   VkExtensionProperties* properties) {
  if (!properties) {
    *count = static_cast<uint32_t>(extensions.size());
    return VK_SUCCESS;
  }
  const uint32_t written = std::min<uint32_t>(*count, static_cast<uint32_t>(extensions.size()));
  std::copy_n(extensions.begin(), written, properties);
  *count = written;
  return written < extensions.size() ? VK_INCOMPLETE : VK_SUCCESS;
}

}  // namespace

VKAPI_ATTR VkResult VKAPI_CALL EnumerateDeviceExtensionProperties(VkPhysicalDevice physical_device,
                                                                  const char* layer_name, uint32_t* count,
                                                                  VkExtensionProperties* properties) {
  auto instance = find_instance(physical_device);
  if (layer_name && std::strcmp(layer_name, kLayerName) == 0)
    return write_out(layer_extensions(instance->profile.get()), count, properties);
  if (layer_name || !instance->profile)
    return instance->next.enumerate_device_extension_properties(physical_device, layer_name, count,
                                                                properties);
  uint32_t real_count = 0;
  VkResult result =
      instance->next.enumerate_device_extension_properties(physical_device, nullptr, &real_count, nullptr);
  if (result != VK_SUCCESS) return result;
  std::vector<VkExtensionProperties> extensions(real_count);
  result = instance->next.enumerate_device_extension_properties(physical_device, nullptr, &real_count,
                                                                extensions.data());
  if (result != VK_SUCCESS && result != VK_INCOMPLETE) return result;
  extensions.resize(real_count);
  for (const VkExtensionProperties& added : layer_extensions(instance->profile.get())) {
    const bool present =
        std::any_of(extensions.begin(), extensions.end(), [&](const VkExtensionProperties& e) {
          return std::strcmp(e.extensionName, added.extensionName) == 0;
        });
    if (!present) extensions.push_back(added);
  }
  return write_out(extensions, count, properties);
}

}  // namespace device_profile
