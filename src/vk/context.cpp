#include "vk/context.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "vk/check.h"
#include "vk/memory_types.h"
#include "vk/pipeline.h"

namespace vkvision {

namespace vk {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";
// The test-only layer that makes the device report another device class (tests/support/device_profiles).
constexpr const char* kDeviceProfileLayer = "VK_LAYER_VKVISION_device_profile";
// Named by string: the extension's header is in vulkan_beta.h.
constexpr const char* kPortabilitySubset = "VK_KHR_portability_subset";
// Every shader is SPIR-V 1.5 (glslc --target-env=vulkan1.2) and the feature queries are 1.2's.
constexpr uint32_t kRequiredApiVersion = VK_API_VERSION_1_2;

bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value && std::strcmp(value, "0") != 0 && value[0] != '\0';
}

const char* device_type_name(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
  }
}

// VKVISION_VALIDATION: unset, empty or "0" is off; otherwise a comma-separated list of "1" (the
// layer's core checks), "sync" and "gpu", each of which also turns the layer on.
ValidationFeatures validation_request(bool requested_by_options) {
  ValidationFeatures request{.layer = requested_by_options};
  const char* value = std::getenv("VKVISION_VALIDATION");
  if (!value || value[0] == '\0' || std::strcmp(value, "0") == 0) return request;
  request.layer = true;
  const std::string list = value;
  for (size_t start = 0; start <= list.size();) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string word = list.substr(start, end - start);
    if (word == "sync")
      request.synchronization = true;
    else if (word == "gpu")
      request.gpu_assisted = true;
    else if (word != "1")
      throw InputError("VKVISION_VALIDATION: unknown word '" + word + "' in '" + list +
                       "' (expected 1, sync or gpu)");
    start = end + 1;
  }
  return request;
}

bool layer_available(const char* layer) {
  uint32_t count = 0;
  vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vkEnumerateInstanceLayerProperties(&count, layers.data());
  for (const auto& properties : layers)
    if (std::strcmp(properties.layerName, layer) == 0) return true;
  return false;
}

// layer nullptr: the loader's and drivers' own instance extensions.
bool layer_has_extension(const char* layer, const char* extension) {
  uint32_t count = 0;
  vkEnumerateInstanceExtensionProperties(layer, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateInstanceExtensionProperties(layer, &count, extensions.data());
  for (const auto& properties : extensions)
    if (std::strcmp(properties.extensionName, extension) == 0) return true;
  return false;
}

std::string version_string(uint32_t version) {
  return std::to_string(VK_API_VERSION_MAJOR(version)) + "." + std::to_string(VK_API_VERSION_MINOR(version)) +
         "." + std::to_string(VK_API_VERSION_PATCH(version));
}

const char* device_profile_request() {
  const char* profile = std::getenv("VKVISION_DEVICE_PROFILE");
  return profile && profile[0] != '\0' ? profile : nullptr;
}

VkInstance create_instance(const ValidationFeatures& validation) {
  uint32_t loader_version = VK_API_VERSION_1_0;
  if (auto enumerate_version = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
          vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion")))
    enumerate_version(&loader_version);
  if (loader_version < kRequiredApiVersion)
    throw DeviceError("the Vulkan loader supports Vulkan " + version_string(loader_version) +
                      "; vkvision needs 1.2 (apt-get install libvulkan1 from Debian 12 or later)");
  VkApplicationInfo app{.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                        .pApplicationName = "vkvision",
                        .applicationVersion = 1,
                        .pEngineName = "vkvision",
                        .engineVersion = 1,
                        .apiVersion = VK_API_VERSION_1_2};
  std::vector<const char*> layers;
  std::vector<const char*> extensions;
  std::vector<VkValidationFeatureEnableEXT> enables;
  if (validation.layer) {
    if (!layer_available(kValidationLayer))
      throw DeviceError(
          "validation requested but VK_LAYER_KHRONOS_validation is not installed: apt-get install "
          "vulkan-validationlayers");
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    if (validation.synchronization)
      enables.push_back(VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT);
    if (validation.gpu_assisted) {
      enables.push_back(VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT);
      // The layer binds its error buffer in a descriptor set of its own; reserving that slot keeps
      // it from clashing with ours.
      enables.push_back(VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_RESERVE_BINDING_SLOT_EXT);
    }
    if (!enables.empty()) {
      if (!layer_has_extension(kValidationLayer, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME))
        throw DeviceError("VKVISION_VALIDATION asks for sync/gpu checks but the validation layer lacks " +
                          std::string(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME));
      extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
    }
  }
  // Below the validation layer, so that it checks vkvision's use against the simulated device.
  if (const char* profile = device_profile_request()) {
    if (!layer_available(kDeviceProfileLayer))
      throw DeviceError(std::string("VKVISION_DEVICE_PROFILE=") + profile + " needs the test-only layer " +
                        kDeviceProfileLayer + ": set VK_ADD_LAYER_PATH=<build>/device_profile_layer");
    layers.push_back(kDeviceProfileLayer);
  }
  // Portability drivers (MoltenVK) are listed only to instances that opt in.
  VkInstanceCreateFlags flags = 0;
  if (layer_has_extension(nullptr, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
    extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
    flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
  }
  VkValidationFeaturesEXT features{.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                   .enabledValidationFeatureCount = static_cast<uint32_t>(enables.size()),
                                   .pEnabledValidationFeatures = enables.data()};
  VkInstanceCreateInfo create_info{.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                   .pNext = enables.empty() ? nullptr : &features,
                                   .flags = flags,
                                   .pApplicationInfo = &app,
                                   .enabledLayerCount = static_cast<uint32_t>(layers.size()),
                                   .ppEnabledLayerNames = layers.data(),
                                   .enabledExtensionCount = static_cast<uint32_t>(extensions.size()),
                                   .ppEnabledExtensionNames = extensions.data()};
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = vkCreateInstance(&create_info, nullptr, &instance);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
    throw DeviceError("no Vulkan driver found: apt-get install mesa-vulkan-drivers (or your GPU's driver)");
  if (result == VK_ERROR_INITIALIZATION_FAILED && device_profile_request())
    throw DeviceError(std::string("the device profile '") + device_profile_request() +
                      "' could not be loaded (the layer printed why)");
  VKV_CHECK(result);
  return instance;
}

std::vector<VkPhysicalDevice> physical_devices(VkInstance instance) {
  uint32_t count = 0;
  VKV_CHECK(vkEnumeratePhysicalDevices(instance, &count, nullptr));
  std::vector<VkPhysicalDevice> devices(count);
  VKV_CHECK(vkEnumeratePhysicalDevices(instance, &count, devices.data()));
  return devices;
}

std::vector<VkQueueFamilyProperties> queue_families(VkPhysicalDevice physical_device) {
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &count, families.data());
  return families;
}

// Prefers a compute-only family (async compute on GPUs), else any family with compute.
std::optional<uint32_t> find_compute_queue_family(VkPhysicalDevice physical_device) {
  const auto families = queue_families(physical_device);
  for (uint32_t i = 0; i < families.size(); ++i)
    if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      return i;
  for (uint32_t i = 0; i < families.size(); ++i)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return i;
  return std::nullopt;
}

std::vector<std::string> device_extensions(VkPhysicalDevice physical_device) {
  uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(physical_device, nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> properties(count);
  vkEnumerateDeviceExtensionProperties(physical_device, nullptr, &count, properties.data());
  std::vector<std::string> names;
  for (const auto& extension : properties) names.emplace_back(extension.extensionName);
  return names;
}

bool contains(const std::vector<std::string>& names, const char* name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

VkPhysicalDeviceMemoryProperties query_memory_properties(VkPhysicalDevice physical_device) {
  VkPhysicalDeviceMemoryProperties memory{};
  vkGetPhysicalDeviceMemoryProperties(physical_device, &memory);
  return memory;
}

MemoryPath memory_path(const VkPhysicalDeviceMemoryProperties& memory, MemoryUse use,
                       bool map_device_memory) {
  MemoryPath path;
  if (auto type = choose_memory_type(memory, ~0u, use, map_device_memory)) {
    path.type = static_cast<int>(*type);
    path.heap = static_cast<int>(memory.memoryTypes[*type].heapIndex);
    path.flags = memory_flag_words(memory.memoryTypes[*type].propertyFlags);
  }
  return path;
}

}  // namespace

DeviceInfo query_device_info(VkPhysicalDevice physical_device, uint32_t index) {
  VkPhysicalDeviceProperties base{};
  vkGetPhysicalDeviceProperties(physical_device, &base);
  const std::vector<std::string> extensions = device_extensions(physical_device);
  DeviceInfo info;
  info.index = index;
  info.name = base.deviceName;
  info.type = device_type_name(base.deviceType);
  info.api_version = base.apiVersion;
  info.driver_version = base.driverVersion;
  info.vendor_id = base.vendorID;
  info.device_id = base.deviceID;
  std::memcpy(info.pipeline_cache_uuid.data(), base.pipelineCacheUUID, VK_UUID_SIZE);
  const std::optional<uint32_t> compute_family = find_compute_queue_family(physical_device);
  if (base.apiVersion < kRequiredApiVersion)
    info.unsupported_reason = "supports Vulkan " + version_string(base.apiVersion) +
                              "; vkvision needs 1.2 (its shaders are SPIR-V 1.5)";
  else if (!compute_family)
    info.unsupported_reason = "has no compute queue";
  // Below 1.1 not even the property queries below exist.
  if (base.apiVersion < VK_API_VERSION_1_1) return info;

  // The 1.1 and 1.2 structures are chained only where the device has them: an older driver would
  // take them as invalid usage.
  const bool vulkan_1_2 = base.apiVersion >= VK_API_VERSION_1_2;
  const bool maintenance4 =
      base.apiVersion >= VK_API_VERSION_1_3 || contains(extensions, "VK_KHR_maintenance4");
  VkPhysicalDeviceMaintenance4Properties maintenance4_properties{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES};
  VkPhysicalDeviceMaintenance3Properties maintenance3{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
      .pNext = maintenance4 ? &maintenance4_properties : nullptr};
  VkPhysicalDeviceDriverProperties driver{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
                                          .pNext = &maintenance3};
  VkPhysicalDeviceSubgroupProperties subgroup{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
      .pNext = vulkan_1_2 ? static_cast<void*>(&driver) : &maintenance3};
  VkPhysicalDeviceProperties2 properties{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &subgroup};
  vkGetPhysicalDeviceProperties2(physical_device, &properties);
  VkPhysicalDeviceVulkan12Features features12{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDevice16BitStorageFeatures storage16{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
      .pNext = vulkan_1_2 ? &features12 : nullptr};
  VkPhysicalDeviceFeatures2 features{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                     .pNext = &storage16};
  vkGetPhysicalDeviceFeatures2(physical_device, &features);
  info.memory_budget = contains(extensions, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  info.portability_subset = contains(extensions, kPortabilitySubset);
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 memory2{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                            .pNext = info.memory_budget ? &budget : nullptr};
  vkGetPhysicalDeviceMemoryProperties2(physical_device, &memory2);
  const VkPhysicalDeviceMemoryProperties& memory = memory2.memoryProperties;

  const VkPhysicalDeviceLimits& limits = properties.properties.limits;
  if (vulkan_1_2) {
    info.driver_name = driver.driverName;
    info.driver_info = driver.driverInfo;
  }
  info.subgroup_size = subgroup.subgroupSize;
  info.shader_float16 = vulkan_1_2 && features12.shaderFloat16;
  info.storage_buffer_16bit = storage16.storageBuffer16BitAccess;
  info.timeline_semaphore = vulkan_1_2 && features12.timelineSemaphore;
  info.timestamps = limits.timestampComputeAndGraphics;
  info.timestamp_period_ns = limits.timestampPeriod;
  if (compute_family) {
    info.timestamp_valid_bits = queue_families(physical_device)[*compute_family].timestampValidBits;
    info.timestamps = info.timestamps && info.timestamp_valid_bits > 0;
  }
  if (info.unsupported_reason.empty() && limits.maxPerStageDescriptorStorageBuffers < kMaxKernelBuffers)
    info.unsupported_reason = "allows " + std::to_string(limits.maxPerStageDescriptorStorageBuffers) +
                              " storage buffers per shader stage; vkvision's kernels bind up to " +
                              std::to_string(kMaxKernelBuffers);
  info.max_storage_buffer_range = limits.maxStorageBufferRange;
  info.max_compute_shared_memory = limits.maxComputeSharedMemorySize;
  for (int i = 0; i < 3; ++i) {
    info.max_workgroup_size[i] = limits.maxComputeWorkGroupSize[i];
    info.max_workgroup_count[i] = limits.maxComputeWorkGroupCount[i];
  }
  info.max_workgroup_invocations = limits.maxComputeWorkGroupInvocations;
  info.max_push_constants_size = limits.maxPushConstantsSize;
  info.min_storage_buffer_offset_alignment = limits.minStorageBufferOffsetAlignment;
  info.min_texel_buffer_offset_alignment = limits.minTexelBufferOffsetAlignment;
  info.max_texel_buffer_elements = limits.maxTexelBufferElements;
  info.non_coherent_atom_size = std::max<uint64_t>(limits.nonCoherentAtomSize, 1);
  info.max_memory_allocation_size = maintenance3.maxMemoryAllocationSize;
  info.max_buffer_size =
      maintenance4 ? maintenance4_properties.maxBufferSize : maintenance3.maxMemoryAllocationSize;
  VkFormatProperties format{};
  vkGetPhysicalDeviceFormatProperties(physical_device, VK_FORMAT_R32G32B32A32_SFLOAT, &format);
  info.texel_buffer_rgba32f = format.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT;
  vkGetPhysicalDeviceFormatProperties(physical_device, VK_FORMAT_R16G16B16A16_SFLOAT, &format);
  info.texel_buffer_rgba16f = format.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT;

  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    info.memory_heaps.push_back(
        {.size = memory.memoryHeaps[i].size,
         .device_local = bool(memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT),
         .budget = info.memory_budget ? budget.heapBudget[i] : 0,
         .usage = info.memory_budget ? budget.heapUsage[i] : 0});
  info.device_local_bytes = memory.memoryHeapCount ? memory.memoryHeaps[device_heap(memory)].size : 0;
  info.unified_memory = device_heap_mappable(memory);
  describe_memory_paths(info, memory, info.unified_memory);
  return info;
}

void describe_memory_paths(DeviceInfo& info, const VkPhysicalDeviceMemoryProperties& memory,
                           bool map_device_memory) {
  info.device_memory = memory_path(memory, MemoryUse::DeviceLocal, map_device_memory);
  info.upload_memory = memory_path(memory, MemoryUse::Upload, map_device_memory);
  info.readback_memory = memory_path(memory, MemoryUse::Readback, map_device_memory);
}

namespace {

// What vkvision enables on a device it creates and asks a host to enable (device_contract): every
// optional feature and extension it can use, where the device has it. The kernels use no other:
// the *_half_weights shader variants read fp16 weights from storage buffers (StorageBuffer16BitAccess)
// and widen them to fp32 on load, RGBA16F texel views need only the format's texel-buffer support.
DeviceContract contract_for(VkPhysicalDevice physical_device, const DeviceInfo& info) {
  DeviceContract contract;
  contract.api_version = kRequiredApiVersion;
  contract.unsupported_reason = info.unsupported_reason;
  if (const auto family = find_compute_queue_family(physical_device))
    contract.queue_family = static_cast<int>(*family);
  // A portability driver must have its subset enabled (its feature bits list what it cannot do;
  // vkvision's compute kernels need none of them: docs/PORTABILITY.md). The memory budget makes
  // allocations respect what other applications leave free.
  if (info.portability_subset) contract.extensions.push_back(kPortabilitySubset);
  if (info.memory_budget) contract.extensions.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  contract.vulkan11.storageBuffer16BitAccess = info.storage_buffer_16bit;
  contract.vulkan12.shaderFloat16 = info.shader_float16;
  contract.vulkan12.timelineSemaphore = info.timeline_semaphore;
  return contract;
}

// The features a host enabled, from its VkDeviceCreateInfo::pNext chain (ExternalDevice).
struct EnabledFeatures {
  bool storage_buffer_16bit = false;
  bool shader_float16 = false;
  bool timeline_semaphore = false;
};

EnabledFeatures read_enabled_features(const void* chain) {
  // Far more than any real chain: a longer one is taken for a cycle rather than walked forever.
  constexpr int kMaxChainLength = 1024;
  EnabledFeatures enabled;
  int length = 0;
  for (auto* next = static_cast<const VkBaseInStructure*>(chain); next; next = next->pNext) {
    if (++length > kMaxChainLength)
      throw InputError("ExternalDevice::enabled_features: the pNext chain is longer than " +
                       std::to_string(kMaxChainLength) + " structures (a cycle?)");
    switch (next->sType) {
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES:
        enabled.storage_buffer_16bit |=
            reinterpret_cast<const VkPhysicalDeviceVulkan11Features*>(next)->storageBuffer16BitAccess;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES: {
        const auto* features = reinterpret_cast<const VkPhysicalDeviceVulkan12Features*>(next);
        enabled.shader_float16 |= features->shaderFloat16;
        enabled.timeline_semaphore |= features->timelineSemaphore;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES:
        enabled.storage_buffer_16bit |=
            reinterpret_cast<const VkPhysicalDevice16BitStorageFeatures*>(next)->storageBuffer16BitAccess;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES:
        enabled.shader_float16 |=
            reinterpret_cast<const VkPhysicalDeviceShaderFloat16Int8Features*>(next)->shaderFloat16;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES:
        enabled.timeline_semaphore |=
            reinterpret_cast<const VkPhysicalDeviceTimelineSemaphoreFeatures*>(next)->timelineSemaphore;
        break;
      default:  // VkPhysicalDeviceFeatures2 included: vkvision needs no Vulkan 1.0 feature
        break;
    }
  }
  return enabled;
}

bool listed(const std::vector<std::string>& names, const char* name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

}  // namespace vk

VkPhysicalDeviceFeatures2* DeviceContract::chain(void* next) {
  features.pNext = &vulkan11;
  vulkan11.pNext = &vulkan12;
  vulkan12.pNext = next;
  return &features;
}

DeviceContract device_contract(VkPhysicalDevice physical_device) {
  return vk::contract_for(physical_device, vk::query_device_info(physical_device, 0));
}

std::string DeviceInfo::api_version_string() const { return vk::version_string(api_version); }

std::vector<DeviceInfo> list_devices() {
  VkInstance instance = vk::create_instance(vk::ValidationFeatures{});
  std::vector<DeviceInfo> infos;
  try {
    auto devices = vk::physical_devices(instance);
    for (uint32_t i = 0; i < devices.size(); ++i) infos.push_back(vk::query_device_info(devices[i], i));
  } catch (...) {
    vkDestroyInstance(instance, nullptr);
    throw;
  }
  vkDestroyInstance(instance, nullptr);
  return infos;
}

namespace vk {

VKAPI_ATTR VkBool32 VKAPI_CALL Context::on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                         VkDebugUtilsMessageTypeFlagsEXT,
                                                         const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                         void* user) {
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
    static_cast<Context*>(user)->record_validation_message(data->pMessage);
  return VK_FALSE;
}

void Context::record_validation_message(const char* message) {
  std::lock_guard lock(messages_mutex_);
  messages_.emplace_back(message ? message : "");
  validation_messages_.fetch_add(1);
}

std::vector<std::string> Context::validation_messages() const {
  std::lock_guard lock(messages_mutex_);
  return messages_;
}

std::shared_ptr<Context> Context::create(const DeviceOptions& options) {
  std::shared_ptr<Context> context(new Context());
  context->validation_ = validation_request(options.validation);
  context->owns_device_ = true;
  context->force_staging_ = options.force_staging || env_flag("VKVISION_FORCE_STAGING");
  context->apply_options(options);
  context->instance_ = create_instance(context->validation_);
  if (context->validation_.layer) context->attach_messenger();

  auto devices = physical_devices(context->instance_);
  if (devices.empty())
    throw DeviceError("no Vulkan device found: apt-get install mesa-vulkan-drivers for the CPU device");
  int index = options.device_index;
  if (index < 0) {
    const char* env = std::getenv("VKVISION_DEVICE");
    index = env ? std::atoi(env) : 0;
  }
  if (index < 0 || index >= static_cast<int>(devices.size()))
    throw InputError("device " + std::to_string(index) + " does not exist: " +
                     std::to_string(devices.size()) + " Vulkan device(s) found (see `vkvision devices`)");
  context->physical_device_ = devices[index];
  context->info_ = query_device_info(context->physical_device_, index);
  if (!context->info_.unsupported_reason.empty())
    throw DeviceError("device " + std::to_string(index) + " (" + context->info_.name + ") " +
                      context->info_.unsupported_reason);
  if (context->force_staging_) context->stage_device_memory();

  // Exactly what a host is asked to enable (device_contract), so that a wrapped device with the
  // whole contract runs the kernels a created one runs.
  DeviceContract contract = contract_for(context->physical_device_, context->info_);
  context->queue_family_ = static_cast<uint32_t>(contract.queue_family);
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = context->queue_family_,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
  VkDeviceCreateInfo device_info{.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                 .pNext = contract.chain(),
                                 .queueCreateInfoCount = 1,
                                 .pQueueCreateInfos = &queue_info,
                                 .enabledExtensionCount = static_cast<uint32_t>(contract.extensions.size()),
                                 .ppEnabledExtensionNames = contract.extensions.data()};
  VKV_CHECK(vkCreateDevice(context->physical_device_, &device_info, nullptr, &context->device_));
  vkGetDeviceQueue(context->device_, context->queue_family_, 0, &context->queue_);
  vkGetPhysicalDeviceMemoryProperties(context->physical_device_, &context->memory_properties_);
  VkFenceCreateInfo fence_info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VKV_CHECK(vkCreateFence(context->device_, &fence_info, nullptr, &context->fence_));
  return context;
}

std::shared_ptr<Context> Context::wrap(const ExternalDevice& external, const DeviceOptions& options) {
  // Everything the host stated is checked before the first Vulkan call that depends on it: the
  // property queries below are Vulkan 1.1 functions, invalid on an older instance.
  if (!external.instance || !external.physical_device || !external.device || !external.queue)
    throw InputError("ExternalDevice: instance, physical_device, device and queue must all be set");
  if (bool(external.lock_queue) != bool(external.unlock_queue))
    throw InputError("ExternalDevice: lock_queue and unlock_queue must be set together (or neither)");
  if (external.api_version == 0)
    throw InputError(
        "ExternalDevice::api_version is 0: state the apiVersion your VkInstance was created with "
        "(vkvision needs 1.2 or later)");
  if (external.api_version < kRequiredApiVersion)
    throw DeviceError("the host's instance was created with Vulkan " + version_string(external.api_version) +
                      " (ExternalDevice::api_version); vkvision needs 1.2 (its shaders are SPIR-V 1.5)");
  VkPhysicalDeviceProperties properties{};
  vkGetPhysicalDeviceProperties(external.physical_device, &properties);
  const std::string device_name = std::string("the host's device (") + properties.deviceName + ") ";
  if (properties.apiVersion < kRequiredApiVersion)
    throw DeviceError(device_name + "supports Vulkan " + version_string(properties.apiVersion) +
                      "; vkvision needs 1.2 (its shaders are SPIR-V 1.5)");
  const auto families = queue_families(external.physical_device);
  if (external.queue_family_index >= families.size())
    throw InputError("ExternalDevice::queue_family_index " + std::to_string(external.queue_family_index) +
                     " does not exist: the device has " + std::to_string(families.size()) + " queue famil" +
                     (families.size() == 1 ? "y" : "ies"));
  if (!(families[external.queue_family_index].queueFlags & VK_QUEUE_COMPUTE_BIT))
    throw InputError("ExternalDevice::queue_family_index " + std::to_string(external.queue_family_index) +
                     " has no compute support; vkvision's queue must run compute work");
  const EnabledFeatures enabled = read_enabled_features(external.enabled_features);

  std::shared_ptr<Context> context(new Context());
  context->owns_device_ = false;
  context->force_staging_ = options.force_staging;
  context->apply_options(options);
  context->instance_ = external.instance;
  context->physical_device_ = external.physical_device;
  context->device_ = external.device;
  context->queue_ = external.queue;
  context->queue_family_ = external.queue_family_index;
  context->lock_queue_ = external.lock_queue;
  context->unlock_queue_ = external.unlock_queue;
  context->info_ = query_device_info(external.physical_device, 0);
  if (!context->info_.unsupported_reason.empty())
    throw DeviceError(device_name + context->info_.unsupported_reason);
  context->info_.timestamp_valid_bits = families[external.queue_family_index].timestampValidBits;
  context->info_.timestamps = context->info_.timestamps && context->info_.timestamp_valid_bits > 0;
  // What the device has and the host enabled; kernels choose their paths from these.
  context->info_.storage_buffer_16bit = context->info_.storage_buffer_16bit && enabled.storage_buffer_16bit;
  context->info_.shader_float16 = context->info_.shader_float16 && enabled.shader_float16;
  context->info_.timeline_semaphore = context->info_.timeline_semaphore && enabled.timeline_semaphore;
  context->info_.memory_budget = context->info_.memory_budget &&
                                 listed(external.enabled_extensions, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  if (!context->info_.memory_budget)
    for (MemoryHeapInfo& heap : context->info_.memory_heaps) heap.budget = heap.usage = 0;
  if (context->force_staging_) context->stage_device_memory();
  vkGetPhysicalDeviceMemoryProperties(context->physical_device_, &context->memory_properties_);

  // The host's instance has whatever layers it was created with; vkvision can only listen to them.
  const ValidationFeatures request = validation_request(options.validation);
  if (request.layer) {
    if (!listed(external.enabled_instance_extensions, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
      throw DeviceError(
          "validation requested (DeviceOptions::validation or VKVISION_VALIDATION) but the host's instance "
          "does not enable VK_EXT_debug_utils (ExternalDevice::enabled_instance_extensions): vkvision "
          "cannot add a layer or extension to an instance it did not create");
    context->validation_.layer = true;  // which checks run is the host's instance's choice
    context->attach_messenger();
  }
  VkFenceCreateInfo fence_info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VKV_CHECK(vkCreateFence(context->device_, &fence_info, nullptr, &context->fence_));
  return context;
}

void Context::attach_messenger() {
  auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
      vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
  if (!create_messenger)
    throw DeviceError("validation requested but vkCreateDebugUtilsMessengerEXT is missing");
  VkDebugUtilsMessengerCreateInfoEXT messenger_info{
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity =
          VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType =
          VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
      .pfnUserCallback = &Context::on_debug_message,
      .pUserData = this};
  VKV_CHECK(create_messenger(instance_, &messenger_info, nullptr, &messenger_));
}

void Context::stage_device_memory() {
  info_.unified_memory = false;
  describe_memory_paths(info_, query_memory_properties(physical_device_), false);
}

void Context::apply_options(const DeviceOptions& options) {
  memory_budget_ = std::make_unique<MemoryBudget>(options.device_memory_budget);
  submit_timeout_ns_ = uint64_t(std::max<uint32_t>(options.submit_timeout_ms, 1)) * 1000000;
}

Context::~Context() {
  // Every submit was waited for, so only a timed-out one can still run; a borrowed device is never
  // waited idle (that would stall the host application's own work).
  if (fence_ && !submitted_work_may_be_running()) vkDestroyFence(device_, fence_, nullptr);
  if (owns_device_ && device_) {
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
  }
  // On a borrowed instance too: the messenger is vkvision's own.
  if (messenger_) {
    auto destroy_messenger = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy_messenger) destroy_messenger(instance_, messenger_, nullptr);
  }
  if (owns_device_ && instance_) vkDestroyInstance(instance_, nullptr);
}

VkResult Context::queue_submit(const VkSubmitInfo& submit, VkFence fence) {
  if (!lock_queue_) return vkQueueSubmit(queue_, 1, &submit, fence);
  // The host's queue lock (ExternalDevice::lock_queue), held for vkQueueSubmit alone and released
  // however the submit ends.
  struct HostQueueLock {
    const Context& context;
    explicit HostQueueLock(const Context& owner) : context(owner) { context.lock_queue_(context.queue_); }
    ~HostQueueLock() { context.unlock_queue_(context.queue_); }
  } lock(*this);
  return vkQueueSubmit(queue_, 1, &submit, fence);
}

void Context::submit_and_wait(VkCommandBuffer command_buffer) {
  std::lock_guard lock(submit_mutex_);
  throw_if_lost();
  VkSubmitInfo submit{
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &command_buffer};
  if (VkResult result = vkResetFences(device_, 1, &fence_); result != VK_SUCCESS)
    fail_submit(result, "vkResetFences");
  if (VkResult result = queue_submit(submit, fence_); result != VK_SUCCESS)
    fail_submit(result, "vkQueueSubmit");
  // Outside the host's queue lock: only the submit needs it.
  VkResult waited = vkWaitForFences(device_, 1, &fence_, VK_TRUE, submit_timeout_ns_);
  if (waited == VK_SUCCESS && injected_wait_result_ != VK_SUCCESS)
    waited = std::exchange(injected_wait_result_, VK_SUCCESS);
  if (waited != VK_SUCCESS) fail_submit(waited, "vkWaitForFences");
}

void Context::submit(const VkSubmitInfo& submit, VkFence fence) {
  std::lock_guard lock(submit_mutex_);
  throw_if_lost();
  if (VkResult result = queue_submit(submit, fence); result != VK_SUCCESS)
    fail_submit(result, "vkQueueSubmit");
}

void Context::check_wait(VkResult result, const char* call) {
  if (result != VK_SUCCESS) fail_submit(result, call);
}

void Context::fail_submit(VkResult result, const char* call) {
  if (result == VK_TIMEOUT) {
    submit_timed_out_ = true;
    mark_lost("device hung: a submit did not finish within " + std::to_string(submit_timeout_ns_ / 1000000) +
              " ms (" + call + " timed out; DeviceOptions::submit_timeout_ms)");
  } else if (result == VK_ERROR_DEVICE_LOST) {
    mark_lost("device lost: " + std::string(call) + " returned VK_ERROR_DEVICE_LOST");
  } else {
    throw_vk_error(result, call, __FILE__, __LINE__);
  }
  throw_lost();
}

void Context::mark_lost(const std::string& reason) {
  std::lock_guard lock(lost_mutex_);
  if (lost_) return;  // the first loss is the one to report
  lost_reason_ = reason + "; this runtime cannot run anything more (create a new one)";
  lost_ = true;
}

void Context::throw_lost() const {
  std::lock_guard lock(lost_mutex_);
  throw DeviceError(lost_reason_);
}

void Context::inject_wait_result_for_testing(VkResult result) {
  std::lock_guard lock(submit_mutex_);
  injected_wait_result_ = result;
}

bool Context::submitted_work_may_be_running() const {
  return submit_timed_out_ && vkGetFenceStatus(device_, fence_) == VK_NOT_READY;
}

}  // namespace vk
}  // namespace vkvision
