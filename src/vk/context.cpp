#include "vk/context.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "vk/check.h"

namespace vkvision {

std::string DeviceInfo::api_version_string() const {
  return std::to_string(VK_API_VERSION_MAJOR(api_version)) + "." +
         std::to_string(VK_API_VERSION_MINOR(api_version)) + "." +
         std::to_string(VK_API_VERSION_PATCH(api_version));
}

namespace vk {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

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
    if (word == "sync") request.synchronization = true;
    else if (word == "gpu") request.gpu_assisted = true;
    else if (word != "1")
      throw InputError("VKVISION_VALIDATION: unknown word '" + word + "' in '" + list + "' (expected 1, sync or gpu)");
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

bool layer_has_extension(const char* layer, const char* extension) {
  uint32_t count = 0;
  vkEnumerateInstanceExtensionProperties(layer, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateInstanceExtensionProperties(layer, &count, extensions.data());
  for (const auto& properties : extensions)
    if (std::strcmp(properties.extensionName, extension) == 0) return true;
  return false;
}

VkInstance create_instance(const ValidationFeatures& validation) {
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
    if (validation.synchronization) enables.push_back(VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT);
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
  VkValidationFeaturesEXT features{.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                   .enabledValidationFeatureCount = static_cast<uint32_t>(enables.size()),
                                   .pEnabledValidationFeatures = enables.data()};
  VkInstanceCreateInfo create_info{.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                   .pNext = enables.empty() ? nullptr : &features,
                                   .pApplicationInfo = &app,
                                   .enabledLayerCount = static_cast<uint32_t>(layers.size()),
                                   .ppEnabledLayerNames = layers.data(),
                                   .enabledExtensionCount = static_cast<uint32_t>(extensions.size()),
                                   .ppEnabledExtensionNames = extensions.data()};
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = vkCreateInstance(&create_info, nullptr, &instance);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
    throw DeviceError("no Vulkan driver found: apt-get install mesa-vulkan-drivers (or your GPU's driver)");
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

uint32_t find_compute_queue_family(VkPhysicalDevice physical_device) {
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &count, families.data());
  // Prefer a compute-only family (async compute on GPUs), else any family with compute.
  for (uint32_t i = 0; i < count; ++i)
    if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      return i;
  for (uint32_t i = 0; i < count; ++i)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return i;
  throw DeviceError("the Vulkan device has no compute queue");
}

}  // namespace

DeviceInfo query_device_info(VkPhysicalDevice physical_device, uint32_t index) {
  VkPhysicalDeviceDriverProperties driver{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties subgroup{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                              .pNext = &driver};
  VkPhysicalDeviceProperties2 properties{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &subgroup};
  vkGetPhysicalDeviceProperties2(physical_device, &properties);
  VkPhysicalDeviceVulkan12Features features12{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan11Features features11{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                              .pNext = &features12};
  VkPhysicalDeviceFeatures2 features{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &features11};
  vkGetPhysicalDeviceFeatures2(physical_device, &features);
  VkPhysicalDeviceMemoryProperties memory{};
  vkGetPhysicalDeviceMemoryProperties(physical_device, &memory);

  const VkPhysicalDeviceLimits& limits = properties.properties.limits;
  DeviceInfo info;
  info.index = index;
  info.name = properties.properties.deviceName;
  info.type = device_type_name(properties.properties.deviceType);
  info.driver_name = driver.driverName;
  info.driver_info = driver.driverInfo;
  info.api_version = properties.properties.apiVersion;
  info.driver_version = properties.properties.driverVersion;
  info.vendor_id = properties.properties.vendorID;
  std::memcpy(info.pipeline_cache_uuid.data(), properties.properties.pipelineCacheUUID, VK_UUID_SIZE);
  info.subgroup_size = subgroup.subgroupSize;
  info.shader_float16 = features12.shaderFloat16;
  info.storage_buffer_16bit = features11.storageBuffer16BitAccess;
  info.timestamps = limits.timestampComputeAndGraphics;
  info.timestamp_period_ns = limits.timestampPeriod;
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
  VkFormatProperties format{};
  vkGetPhysicalDeviceFormatProperties(physical_device, VK_FORMAT_R32G32B32A32_SFLOAT, &format);
  info.texel_buffer_rgba32f = format.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT;
  vkGetPhysicalDeviceFormatProperties(physical_device, VK_FORMAT_R16G16B16A16_SFLOAT, &format);
  info.texel_buffer_rgba16f = format.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT;
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    if (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      info.device_local_bytes = std::max<uint64_t>(info.device_local_bytes, memory.memoryHeaps[i].size);
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    VkMemoryPropertyFlags flags = memory.memoryTypes[i].propertyFlags;
    if ((flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
      info.unified_memory = true;
  }
  return info;
}

}  // namespace vk

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
  if (context->validation_.layer) {
    auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(context->instance_, "vkCreateDebugUtilsMessengerEXT"));
    VkDebugUtilsMessengerCreateInfoEXT messenger_info{
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
        .pfnUserCallback = &Context::on_debug_message,
        .pUserData = context.get()};
    if (create_messenger)
      VKV_CHECK(create_messenger(context->instance_, &messenger_info, nullptr, &context->messenger_));
  }

  auto devices = physical_devices(context->instance_);
  if (devices.empty()) throw DeviceError("no Vulkan device found: apt-get install mesa-vulkan-drivers for the CPU device");
  int index = options.device_index;
  if (index < 0) {
    const char* env = std::getenv("VKVISION_DEVICE");
    index = env ? std::atoi(env) : 0;
  }
  if (index < 0 || index >= static_cast<int>(devices.size()))
    throw InputError("device " + std::to_string(index) + " does not exist: " + std::to_string(devices.size()) +
                     " Vulkan device(s) found (see `vkvision devices`)");
  context->physical_device_ = devices[index];
  context->info_ = query_device_info(context->physical_device_, index);
  context->queue_family_ = find_compute_queue_family(context->physical_device_);

  // Ask only for the optional features the device has; kernels choose their path from info_.
  VkPhysicalDeviceVulkan12Features features12{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                              .shaderFloat16 = context->info_.shader_float16};
  VkPhysicalDeviceVulkan11Features features11{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                              .pNext = &features12,
                                              .storageBuffer16BitAccess = context->info_.storage_buffer_16bit};
  VkPhysicalDeviceFeatures2 features{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &features11};
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = context->queue_family_,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
  VkDeviceCreateInfo device_info{.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                 .pNext = &features,
                                 .queueCreateInfoCount = 1,
                                 .pQueueCreateInfos = &queue_info};
  VKV_CHECK(vkCreateDevice(context->physical_device_, &device_info, nullptr, &context->device_));
  vkGetDeviceQueue(context->device_, context->queue_family_, 0, &context->queue_);
  vkGetPhysicalDeviceMemoryProperties(context->physical_device_, &context->memory_properties_);
  VkFenceCreateInfo fence_info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VKV_CHECK(vkCreateFence(context->device_, &fence_info, nullptr, &context->fence_));
  return context;
}

std::shared_ptr<Context> Context::wrap(const ExternalDevice& external, const DeviceOptions& options) {
  if (!external.instance || !external.physical_device || !external.device || !external.queue)
    throw InputError("ExternalDevice: instance, physical_device, device and queue must all be set");
  std::shared_ptr<Context> context(new Context());
  context->owns_device_ = false;
  context->force_staging_ = options.force_staging;
  context->apply_options(options);
  context->instance_ = external.instance;
  context->physical_device_ = external.physical_device;
  context->device_ = external.device;
  context->queue_ = external.queue;
  context->queue_family_ = external.queue_family_index;
  context->info_ = query_device_info(external.physical_device, 0);
  vkGetPhysicalDeviceMemoryProperties(context->physical_device_, &context->memory_properties_);
  // The host enabled the device's features; assume only what it could have enabled for us is core.
  context->info_.shader_float16 = false;
  context->info_.storage_buffer_16bit = false;
  VkFenceCreateInfo fence_info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VKV_CHECK(vkCreateFence(context->device_, &fence_info, nullptr, &context->fence_));
  return context;
}

void Context::apply_options(const DeviceOptions& options) {
  memory_budget_ = std::make_unique<MemoryBudget>(options.device_memory_budget);
  submit_timeout_ns_ = uint64_t(std::max<uint32_t>(options.submit_timeout_ms, 1)) * 1000000;
}

Context::~Context() {
  // Every submit was waited for, so only a timed-out one can still run; a borrowed device is never
  // waited idle (that would stall the host application's own work).
  if (fence_ && !submitted_work_may_be_running()) vkDestroyFence(device_, fence_, nullptr);
  if (!owns_device_) return;
  if (device_) vkDeviceWaitIdle(device_);
  if (device_) vkDestroyDevice(device_, nullptr);
  if (messenger_) {
    auto destroy_messenger = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy_messenger) destroy_messenger(instance_, messenger_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

void Context::submit_and_wait(VkCommandBuffer command_buffer) {
  std::lock_guard lock(submit_mutex_);
  throw_if_lost();
  VkSubmitInfo submit{.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &command_buffer};
  if (VkResult result = vkResetFences(device_, 1, &fence_); result != VK_SUCCESS) fail_submit(result, "vkResetFences");
  if (VkResult result = vkQueueSubmit(queue_, 1, &submit, fence_); result != VK_SUCCESS)
    fail_submit(result, "vkQueueSubmit");
  VkResult waited = vkWaitForFences(device_, 1, &fence_, VK_TRUE, submit_timeout_ns_);
  if (waited == VK_SUCCESS && injected_wait_result_ != VK_SUCCESS) waited = std::exchange(injected_wait_result_, VK_SUCCESS);
  if (waited != VK_SUCCESS) fail_submit(waited, "vkWaitForFences");
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
