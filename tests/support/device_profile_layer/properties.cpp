#include "properties.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace device_profile {
namespace {

void set_limit(VkPhysicalDeviceLimits& limits, const LimitField& field, const std::vector<double>& values) {
  char* base = reinterpret_cast<char*>(&limits) + field.offset;
  for (uint32_t i = 0; i < field.count; ++i) {
    switch (field.kind) {
      case LimitField::Kind::U32:
        reinterpret_cast<uint32_t*>(base)[i] = static_cast<uint32_t>(values[i]);
        break;
      case LimitField::Kind::U64:
        reinterpret_cast<uint64_t*>(base)[i] = static_cast<uint64_t>(values[i]);
        break;
      case LimitField::Kind::Float: reinterpret_cast<float*>(base)[i] = static_cast<float>(values[i]); break;
    }
  }
}

void append_driver_info(const Profile& profile, char (&info)[VK_MAX_DRIVER_INFO_SIZE]) {
  const std::string suffix = " via device profile " + profile.name;
  const size_t length = strnlen(info, VK_MAX_DRIVER_INFO_SIZE - 1);
  const size_t room = VK_MAX_DRIVER_INFO_SIZE - 1 - length;
  const size_t copied = std::min(room, suffix.size());
  std::memcpy(info + length, suffix.data(), copied);
  info[length + copied] = '\0';
}

// What a profile takes away from one format's features.
VkFormatFeatureFlags removed(const std::map<VkFormat, VkFormatFeatureFlags>& features, VkFormat format) {
  auto found = features.find(format);
  return found == features.end() ? 0 : found->second;
}

}  // namespace

void apply_properties(const Profile& profile, VkPhysicalDeviceProperties& properties) {
  if (profile.device_type) properties.deviceType = *profile.device_type;
  if (profile.vendor_id) properties.vendorID = *profile.vendor_id;
  if (profile.device_id) properties.deviceID = *profile.device_id;
  if (profile.api_version) properties.apiVersion = *profile.api_version;
  if (profile.device_name) {
    std::memset(properties.deviceName, 0, sizeof properties.deviceName);
    std::memcpy(properties.deviceName, profile.device_name->data(), profile.device_name->size());
  }
  for (const auto& [index, values] : profile.limits)
    set_limit(properties.limits, limit_fields()[index], values);
}

void apply_property_chain(const Profile& profile, void* chain) {
  for (auto* node = static_cast<VkBaseOutStructure*>(chain); node; node = node->pNext) {
    switch (node->sType) {
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES: {
        auto* subgroup = reinterpret_cast<VkPhysicalDeviceSubgroupProperties*>(node);
        if (profile.subgroup_size) subgroup->subgroupSize = *profile.subgroup_size;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES: {
        auto* v11 = reinterpret_cast<VkPhysicalDeviceVulkan11Properties*>(node);
        if (profile.subgroup_size) v11->subgroupSize = *profile.subgroup_size;
        if (profile.max_memory_allocation_size)
          v11->maxMemoryAllocationSize = *profile.max_memory_allocation_size;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES: {
        auto* m3 = reinterpret_cast<VkPhysicalDeviceMaintenance3Properties*>(node);
        if (profile.max_memory_allocation_size)
          m3->maxMemoryAllocationSize = *profile.max_memory_allocation_size;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES: {
        auto* m4 = reinterpret_cast<VkPhysicalDeviceMaintenance4Properties*>(node);
        if (profile.max_buffer_size) m4->maxBufferSize = *profile.max_buffer_size;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES: {
        auto* v13 = reinterpret_cast<VkPhysicalDeviceVulkan13Properties*>(node);
        if (profile.max_buffer_size) v13->maxBufferSize = *profile.max_buffer_size;
        if (profile.min_subgroup_size) v13->minSubgroupSize = *profile.min_subgroup_size;
        if (profile.max_subgroup_size) v13->maxSubgroupSize = *profile.max_subgroup_size;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES: {
        auto* control = reinterpret_cast<VkPhysicalDeviceSubgroupSizeControlProperties*>(node);
        if (profile.min_subgroup_size) control->minSubgroupSize = *profile.min_subgroup_size;
        if (profile.max_subgroup_size) control->maxSubgroupSize = *profile.max_subgroup_size;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES:
        append_driver_info(profile, reinterpret_cast<VkPhysicalDeviceDriverProperties*>(node)->driverInfo);
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES:
        append_driver_info(profile, reinterpret_cast<VkPhysicalDeviceVulkan12Properties*>(node)->driverInfo);
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_PROPERTIES_KHR:
        if (profile.portability_subset)
          reinterpret_cast<VkPhysicalDevicePortabilitySubsetPropertiesKHR*>(node)
              ->minVertexInputBindingStrideAlignment =
              profile.min_vertex_input_binding_stride_alignment.value_or(4);
        break;
      default: break;
    }
  }
}

void apply_feature_chain(const Profile& profile, void* chain) {
  for (auto* node = static_cast<VkBaseOutStructure*>(chain); node; node = node->pNext) {
    switch (node->sType) {
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES:
        if (profile.disable_storage_buffer_16bit)
          reinterpret_cast<VkPhysicalDeviceVulkan11Features*>(node)->storageBuffer16BitAccess = VK_FALSE;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES:
        if (profile.disable_storage_buffer_16bit)
          reinterpret_cast<VkPhysicalDevice16BitStorageFeatures*>(node)->storageBuffer16BitAccess = VK_FALSE;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES:
        if (profile.disable_shader_float16)
          reinterpret_cast<VkPhysicalDeviceVulkan12Features*>(node)->shaderFloat16 = VK_FALSE;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES:
        if (profile.disable_shader_float16)
          reinterpret_cast<VkPhysicalDeviceShaderFloat16Int8Features*>(node)->shaderFloat16 = VK_FALSE;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR:
        if (profile.portability_subset) {
          // Keep the application's sType and pNext; copy the feature booleans after them.
          auto* features = reinterpret_cast<VkPhysicalDevicePortabilitySubsetFeaturesKHR*>(node);
          void* next = features->pNext;
          *features = *profile.portability_subset;
          features->pNext = next;
        }
        break;
      default: break;
    }
  }
}

void apply_format(const Profile& profile, VkFormat format, VkFormatProperties& properties) {
  properties.bufferFeatures &= ~removed(profile.removed_buffer_features, format);
  properties.optimalTilingFeatures &= ~removed(profile.removed_optimal_tiling_features, format);
}

void apply_format_chain(const Profile& profile, VkFormat format, void* chain) {
  // VkFormatFeatureFlags2 keeps the VkFormatFeatureFlags bits at the same positions.
  if (auto* three = find_in_chain<VkFormatProperties3>(chain, VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3)) {
    three->bufferFeatures &=
        ~static_cast<VkFormatFeatureFlags2>(removed(profile.removed_buffer_features, format));
    three->optimalTilingFeatures &=
        ~static_cast<VkFormatFeatureFlags2>(removed(profile.removed_optimal_tiling_features, format));
  }
}

void apply_queue_family(const Profile& profile, VkQueueFamilyProperties& family) {
  if (profile.timestamp_valid_bits && family.timestampValidBits)
    family.timestampValidBits = *profile.timestamp_valid_bits;
}

}  // namespace device_profile
