// Loader interface of VK_LAYER_VKVISION_device_profile: negotiation, the proc-address functions,
// instance and device creation (where the profile is loaded and checked) and the state registry.
#include "hooks.h"
#include "properties.h"
#include "state.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace device_profile {
namespace {

std::mutex registry_mutex;
std::unordered_map<void*, std::shared_ptr<InstanceState>> instances;
std::unordered_map<void*, std::shared_ptr<DeviceState>> devices;

template <typename Function>
void load(Function& out, PFN_vkGetInstanceProcAddr get, VkInstance instance, const char* name,
          const char* alias = nullptr) {
  out = reinterpret_cast<Function>(get(instance, name));
  if (!out && alias) out = reinterpret_cast<Function>(get(instance, alias));
}

template <typename Function>
void load(Function& out, PFN_vkGetDeviceProcAddr get, VkDevice device, const char* name,
          const char* alias = nullptr) {
  out = reinterpret_cast<Function>(get(device, name));
  if (!out && alias) out = reinterpret_cast<Function>(get(device, alias));
}

// The loader's link structure in a create-info chain (it is the layer's to advance).
template <typename Info>
Info* find_link(const void* chain, VkStructureType type, VkLayerFunction wanted) {
  for (auto* node = static_cast<const VkBaseInStructure*>(chain); node; node = node->pNext)
    if (node->sType == type && reinterpret_cast<const Info*>(node)->function == wanted)
      return const_cast<Info*>(reinterpret_cast<const Info*>(node));
  return nullptr;
}

bool has_extension(const std::vector<VkExtensionProperties>& extensions, const char* name) {
  for (const auto& extension : extensions)
    if (std::strcmp(extension.extensionName, name) == 0) return true;
  return false;
}

// Checks the profile against every real physical device and builds their memory models; throws.
void inspect_physical_devices(InstanceState& state) {
  uint32_t count = 0;
  state.next.enumerate_physical_devices(state.instance, &count, nullptr);
  std::vector<VkPhysicalDevice> physical_devices(count);
  state.next.enumerate_physical_devices(state.instance, &count, physical_devices.data());
  for (VkPhysicalDevice physical_device : physical_devices) {
    VkPhysicalDeviceMaintenance4Properties maintenance4{
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties maintenance3{
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &maintenance4};
    VkPhysicalDeviceProperties2 properties{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                           .pNext = &maintenance3};
    state.next.get_properties2(physical_device, &properties);
    RealExtras extras{.max_memory_allocation_size = maintenance3.maxMemoryAllocationSize,
                      .max_buffer_size = maintenance4.maxBufferSize,
                      .timestamp_valid_bits = 64};
    uint32_t family_count = 0;
    state.next.get_queue_family_properties(physical_device, &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    state.next.get_queue_family_properties(physical_device, &family_count, families.data());
    for (const auto& family : families)
      if (family.timestampValidBits)
        extras.timestamp_valid_bits = std::min(extras.timestamp_valid_bits, family.timestampValidBits);
    check_against_real_device(*state.profile, properties.properties, extras);

    VkPhysicalDeviceMemoryProperties memory{};
    state.next.get_memory_properties(physical_device, &memory);
    PhysicalDeviceState device;
    try {
      device.memory = std::make_shared<MemoryModel>(*state.profile, memory);
    } catch (const std::runtime_error& error) {
      throw std::runtime_error("device profile " + state.profile->path + ": " + error.what() + " on " +
                               properties.properties.deviceName);
    }
    device.real_timestamp_period = properties.properties.limits.timestampPeriod;
    uint32_t extension_count = 0;
    state.next.enumerate_device_extension_properties(physical_device, nullptr, &extension_count, nullptr);
    std::vector<VkExtensionProperties> extensions(extension_count);
    state.next.enumerate_device_extension_properties(physical_device, nullptr, &extension_count,
                                                     extensions.data());
    device.real_has_memory_budget = has_extension(extensions, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    device.real_has_portability_subset = has_extension(extensions, VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME);
    state.physical_devices[physical_device] = std::move(device);
  }
}

VKAPI_ATTR VkResult VKAPI_CALL CreateInstance(const VkInstanceCreateInfo* info,
                                              const VkAllocationCallbacks* allocator, VkInstance* instance) {
  auto* link = find_link<VkLayerInstanceCreateInfo>(
      info->pNext, VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO, VK_LAYER_LINK_INFO);
  if (!link || !link->u.pLayerInfo) return VK_ERROR_INITIALIZATION_FAILED;
  const PFN_vkGetInstanceProcAddr next_get = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;

  // Read at every vkCreateInstance: tests switch profiles within one process.
  auto state = std::make_shared<InstanceState>();
  const char* selected = std::getenv("VKVISION_DEVICE_PROFILE");
  if (selected && *selected) {
    try {
      state->profile = std::make_shared<const Profile>(load_profile(selected));
    } catch (const std::exception& error) {
      report_error(error.what());
      return VK_ERROR_INITIALIZATION_FAILED;
    }
  }

  auto next_create = reinterpret_cast<PFN_vkCreateInstance>(next_get(VK_NULL_HANDLE, "vkCreateInstance"));
  if (!next_create) return VK_ERROR_INITIALIZATION_FAILED;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;  // the next layer finds its own link
  VkResult result = next_create(info, allocator, instance);
  if (result != VK_SUCCESS) return result;

  state->instance = *instance;
  InstanceFunctions& next = state->next;
  next.get_instance_proc_addr = next_get;
  load(next.destroy_instance, next_get, *instance, "vkDestroyInstance");
  load(next.enumerate_physical_devices, next_get, *instance, "vkEnumeratePhysicalDevices");
  load(next.enumerate_device_extension_properties, next_get, *instance,
       "vkEnumerateDeviceExtensionProperties");
  load(next.create_device, next_get, *instance, "vkCreateDevice");
  load(next.get_properties, next_get, *instance, "vkGetPhysicalDeviceProperties");
  load(next.get_properties2, next_get, *instance, "vkGetPhysicalDeviceProperties2",
       "vkGetPhysicalDeviceProperties2KHR");
  load(next.get_features2, next_get, *instance, "vkGetPhysicalDeviceFeatures2",
       "vkGetPhysicalDeviceFeatures2KHR");
  load(next.get_format_properties, next_get, *instance, "vkGetPhysicalDeviceFormatProperties");
  load(next.get_format_properties2, next_get, *instance, "vkGetPhysicalDeviceFormatProperties2",
       "vkGetPhysicalDeviceFormatProperties2KHR");
  load(next.get_queue_family_properties, next_get, *instance, "vkGetPhysicalDeviceQueueFamilyProperties");
  load(next.get_queue_family_properties2, next_get, *instance, "vkGetPhysicalDeviceQueueFamilyProperties2",
       "vkGetPhysicalDeviceQueueFamilyProperties2KHR");
  load(next.get_memory_properties, next_get, *instance, "vkGetPhysicalDeviceMemoryProperties");
  load(next.get_memory_properties2, next_get, *instance, "vkGetPhysicalDeviceMemoryProperties2",
       "vkGetPhysicalDeviceMemoryProperties2KHR");

  if (state->profile) {
    try {
      inspect_physical_devices(*state);
    } catch (const std::exception& error) {
      report_error(error.what());
      next.destroy_instance(*instance, allocator);
      *instance = VK_NULL_HANDLE;
      return VK_ERROR_INITIALIZATION_FAILED;
    }
  }
  add_instance(*instance, std::move(state));
  return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL DestroyInstance(VkInstance instance, const VkAllocationCallbacks* allocator) {
  if (!instance) return;
  auto state = find_instance(instance);
  remove_instance(instance);
  state->next.destroy_instance(instance, allocator);
}

// Removes, for the duration of vkCreateDevice, what the layer provides and the driver lacks: the
// extension names and the portability-subset feature structure.
class DeviceCreateInfoForDriver {
 public:
  DeviceCreateInfoForDriver(const VkDeviceCreateInfo& info, const PhysicalDeviceState* device) : info_(info) {
    if (!device) return;
    for (uint32_t i = 0; i < info.enabledExtensionCount; ++i) {
      const char* name = info.ppEnabledExtensionNames[i];
      const bool layer_provided =
          (!device->real_has_memory_budget && std::strcmp(name, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0) ||
          (!device->real_has_portability_subset &&
           std::strcmp(name, VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME) == 0);
      if (!layer_provided) extensions_.push_back(name);
    }
    info_.enabledExtensionCount = static_cast<uint32_t>(extensions_.size());
    info_.ppEnabledExtensionNames = extensions_.data();
    if (device->real_has_portability_subset) return;
    // Unlink the structure in place (the chain is the application's) and relink it afterwards.
    for (auto* node = reinterpret_cast<VkBaseOutStructure*>(&info_); node->pNext; node = node->pNext)
      if (node->pNext->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR) {
        unlinked_after_ = node;
        unlinked_ = node->pNext;
        node->pNext = unlinked_->pNext;
        break;
      }
  }
  ~DeviceCreateInfoForDriver() {
    if (unlinked_) unlinked_after_->pNext = unlinked_;
  }
  const VkDeviceCreateInfo* get() const { return &info_; }

 private:
  VkDeviceCreateInfo info_;
  std::vector<const char*> extensions_;
  VkBaseOutStructure* unlinked_after_ = nullptr;
  VkBaseOutStructure* unlinked_ = nullptr;
};

VKAPI_ATTR VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice physical_device, const VkDeviceCreateInfo* info,
                                            const VkAllocationCallbacks* allocator, VkDevice* device) {
  auto* link = find_link<VkLayerDeviceCreateInfo>(info->pNext, VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO,
                                                  VK_LAYER_LINK_INFO);
  if (!link || !link->u.pLayerInfo) return VK_ERROR_INITIALIZATION_FAILED;
  const PFN_vkGetInstanceProcAddr next_get_instance = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  const PFN_vkGetDeviceProcAddr next_get = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  auto instance = find_instance(physical_device);
  auto next_create =
      reinterpret_cast<PFN_vkCreateDevice>(next_get_instance(instance->instance, "vkCreateDevice"));
  if (!next_create) return VK_ERROR_INITIALIZATION_FAILED;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;

  const PhysicalDeviceState* physical =
      instance->profile ? instance->physical_device(physical_device) : nullptr;
  VkResult result = VK_SUCCESS;
  {
    DeviceCreateInfoForDriver driver_info(*info, physical);
    result = next_create(physical_device, driver_info.get(), allocator, device);
  }
  if (result != VK_SUCCESS) return result;

  auto state = std::make_shared<DeviceState>();
  state->device = *device;
  DeviceFunctions& next = state->next;
  next.get_device_proc_addr = next_get;
  load(next.destroy_device, next_get, *device, "vkDestroyDevice");
  load(next.allocate_memory, next_get, *device, "vkAllocateMemory");
  load(next.free_memory, next_get, *device, "vkFreeMemory");
  load(next.map_memory, next_get, *device, "vkMapMemory");
  load(next.unmap_memory, next_get, *device, "vkUnmapMemory");
  load(next.flush_mapped_memory_ranges, next_get, *device, "vkFlushMappedMemoryRanges");
  load(next.invalidate_mapped_memory_ranges, next_get, *device, "vkInvalidateMappedMemoryRanges");
  load(next.get_buffer_memory_requirements, next_get, *device, "vkGetBufferMemoryRequirements");
  load(next.get_buffer_memory_requirements2, next_get, *device, "vkGetBufferMemoryRequirements2",
       "vkGetBufferMemoryRequirements2KHR");
  load(next.get_image_memory_requirements, next_get, *device, "vkGetImageMemoryRequirements");
  load(next.get_image_memory_requirements2, next_get, *device, "vkGetImageMemoryRequirements2",
       "vkGetImageMemoryRequirements2KHR");
  load(next.get_device_buffer_memory_requirements, next_get, *device, "vkGetDeviceBufferMemoryRequirements",
       "vkGetDeviceBufferMemoryRequirementsKHR");
  load(next.get_device_image_memory_requirements, next_get, *device, "vkGetDeviceImageMemoryRequirements",
       "vkGetDeviceImageMemoryRequirementsKHR");
  load(next.create_query_pool, next_get, *device, "vkCreateQueryPool");
  load(next.destroy_query_pool, next_get, *device, "vkDestroyQueryPool");
  load(next.get_query_pool_results, next_get, *device, "vkGetQueryPoolResults");
  if (physical) {
    state->profile = instance->profile;
    state->memory = physical->memory;
    state->allocations = std::make_unique<AllocationTracker>(
        physical->memory, physical->usage, instance->profile->max_memory_allocation_size.value_or(0));
    state->real_timestamp_period = physical->real_timestamp_period;
    state->profile_timestamp_period = physical->real_timestamp_period;
    const auto& fields = limit_fields();
    for (const auto& [index, values] : instance->profile->limits)
      if (std::strcmp(fields[index].name, "timestampPeriod") == 0)
        state->profile_timestamp_period = static_cast<float>(values[0]);
  }
  add_device(*device, std::move(state));
  return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL DestroyDevice(VkDevice device, const VkAllocationCallbacks* allocator) {
  if (!device) return;
  auto state = find_device(device);
  remove_device(device);
  state->next.destroy_device(device, allocator);
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetDeviceProcAddr(VkDevice device, const char* name);

struct Hook {
  const char* name;
  PFN_vkVoidFunction function;
  bool device_level;
};
#define HOOK(name, function, device_level) \
  { name, reinterpret_cast<PFN_vkVoidFunction>(&function), device_level }
const Hook kHooks[] = {
    HOOK("vkCreateInstance", CreateInstance, false),
    HOOK("vkDestroyInstance", DestroyInstance, false),
    HOOK("vkCreateDevice", CreateDevice, false),
    HOOK("vkEnumerateDeviceExtensionProperties", EnumerateDeviceExtensionProperties, false),
    HOOK("vkGetPhysicalDeviceProperties", GetPhysicalDeviceProperties, false),
    HOOK("vkGetPhysicalDeviceProperties2", GetPhysicalDeviceProperties2, false),
    HOOK("vkGetPhysicalDeviceProperties2KHR", GetPhysicalDeviceProperties2, false),
    HOOK("vkGetPhysicalDeviceFeatures2", GetPhysicalDeviceFeatures2, false),
    HOOK("vkGetPhysicalDeviceFeatures2KHR", GetPhysicalDeviceFeatures2, false),
    HOOK("vkGetPhysicalDeviceFormatProperties", GetPhysicalDeviceFormatProperties, false),
    HOOK("vkGetPhysicalDeviceFormatProperties2", GetPhysicalDeviceFormatProperties2, false),
    HOOK("vkGetPhysicalDeviceFormatProperties2KHR", GetPhysicalDeviceFormatProperties2, false),
    HOOK("vkGetPhysicalDeviceQueueFamilyProperties", GetPhysicalDeviceQueueFamilyProperties, false),
    HOOK("vkGetPhysicalDeviceQueueFamilyProperties2", GetPhysicalDeviceQueueFamilyProperties2, false),
    HOOK("vkGetPhysicalDeviceQueueFamilyProperties2KHR", GetPhysicalDeviceQueueFamilyProperties2, false),
    HOOK("vkGetPhysicalDeviceMemoryProperties", GetPhysicalDeviceMemoryProperties, false),
    HOOK("vkGetPhysicalDeviceMemoryProperties2", GetPhysicalDeviceMemoryProperties2, false),
    HOOK("vkGetPhysicalDeviceMemoryProperties2KHR", GetPhysicalDeviceMemoryProperties2, false),
    HOOK("vkGetDeviceProcAddr", GetDeviceProcAddr, true),
    HOOK("vkDestroyDevice", DestroyDevice, true),
    HOOK("vkAllocateMemory", AllocateMemory, true),
    HOOK("vkFreeMemory", FreeMemory, true),
    HOOK("vkMapMemory", MapMemory, true),
    HOOK("vkUnmapMemory", UnmapMemory, true),
    HOOK("vkFlushMappedMemoryRanges", FlushMappedMemoryRanges, true),
    HOOK("vkInvalidateMappedMemoryRanges", InvalidateMappedMemoryRanges, true),
    HOOK("vkGetBufferMemoryRequirements", GetBufferMemoryRequirements, true),
    HOOK("vkGetBufferMemoryRequirements2", GetBufferMemoryRequirements2, true),
    HOOK("vkGetBufferMemoryRequirements2KHR", GetBufferMemoryRequirements2, true),
    HOOK("vkGetImageMemoryRequirements", GetImageMemoryRequirements, true),
    HOOK("vkGetImageMemoryRequirements2", GetImageMemoryRequirements2, true),
    HOOK("vkGetImageMemoryRequirements2KHR", GetImageMemoryRequirements2, true),
    HOOK("vkGetDeviceBufferMemoryRequirements", GetDeviceBufferMemoryRequirements, true),
    HOOK("vkGetDeviceBufferMemoryRequirementsKHR", GetDeviceBufferMemoryRequirements, true),
    HOOK("vkGetDeviceImageMemoryRequirements", GetDeviceImageMemoryRequirements, true),
    HOOK("vkGetDeviceImageMemoryRequirementsKHR", GetDeviceImageMemoryRequirements, true),
    HOOK("vkCreateQueryPool", CreateQueryPool, true),
    HOOK("vkDestroyQueryPool", DestroyQueryPool, true),
    HOOK("vkGetQueryPoolResults", GetQueryPoolResults, true),
};

const Hook* find_hook(const char* name) {
  for (const Hook& hook : kHooks)
    if (std::strcmp(hook.name, name) == 0) return &hook;
  return nullptr;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetDeviceProcAddr(VkDevice device, const char* name) {
  const Hook* hook = find_hook(name);
  if (hook && hook->device_level) {
    // A function the driver lacks (an extension not enabled) stays absent.
    auto state = find_device(device);
    if (!state || state->next.get_device_proc_addr(device, name) ||
        std::strcmp(name, "vkGetDeviceProcAddr") == 0)
      return hook->function;
    return nullptr;
  }
  auto state = find_device(device);
  return state ? state->next.get_device_proc_addr(device, name) : nullptr;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetInstanceProcAddr(VkInstance instance, const char* name) {
  if (std::strcmp(name, "vkGetInstanceProcAddr") == 0)
    return reinterpret_cast<PFN_vkVoidFunction>(&GetInstanceProcAddr);
  if (std::strcmp(name, "vkCreateInstance") == 0)
    return reinterpret_cast<PFN_vkVoidFunction>(&CreateInstance);
  if (!instance) return nullptr;  // the loader answers the other global functions from the manifest
  auto state = find_instance(instance);
  if (!state) return nullptr;
  PFN_vkVoidFunction next = state->next.get_instance_proc_addr(instance, name);
  const Hook* hook = find_hook(name);
  // Hook only what exists below, so the application sees the same set of functions.
  return hook && next ? hook->function : next;
}

}  // namespace

std::shared_ptr<InstanceState> find_instance(const void* handle) {
  std::lock_guard lock(registry_mutex);
  auto found = instances.find(dispatch_key(handle));
  return found == instances.end() ? nullptr : found->second;
}

std::shared_ptr<DeviceState> find_device(const void* handle) {
  std::lock_guard lock(registry_mutex);
  auto found = devices.find(dispatch_key(handle));
  return found == devices.end() ? nullptr : found->second;
}

void add_instance(const void* handle, std::shared_ptr<InstanceState> state) {
  std::lock_guard lock(registry_mutex);
  instances[dispatch_key(handle)] = std::move(state);
}

void add_device(const void* handle, std::shared_ptr<DeviceState> state) {
  std::lock_guard lock(registry_mutex);
  devices[dispatch_key(handle)] = std::move(state);
}

void remove_instance(const void* handle) {
  std::lock_guard lock(registry_mutex);
  instances.erase(dispatch_key(handle));
}

void remove_device(const void* handle) {
  std::lock_guard lock(registry_mutex);
  devices.erase(dispatch_key(handle));
}

void report_error(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kLayerName, message.c_str());
  std::fflush(stderr);
}

}  // namespace device_profile

extern "C" {

__attribute__((visibility("default"))) VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface* version) {
  if (!version || version->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT) return VK_ERROR_INITIALIZATION_FAILED;
  if (version->loaderLayerInterfaceVersion < 2) return VK_ERROR_INITIALIZATION_FAILED;
  version->loaderLayerInterfaceVersion = 2;
  version->pfnGetInstanceProcAddr = &device_profile::GetInstanceProcAddr;
  version->pfnGetDeviceProcAddr = &device_profile::GetDeviceProcAddr;
  version->pfnGetPhysicalDeviceProcAddr = nullptr;
  return VK_SUCCESS;
}

}  // extern "C"
