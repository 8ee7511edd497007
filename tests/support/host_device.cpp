#include "support/host_device.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace vkvision::vk {
// tests/support/host_long_job.comp, compiled at build time (tests/CMakeLists.txt).
extern const uint32_t spirv_host_long_job[];
extern const size_t spirv_host_long_job_words;
}  // namespace vkvision::vk

namespace vkvision::testing {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";
constexpr const char* kDeviceProfileLayer = "VK_LAYER_VKVISION_device_profile";

bool layer_available(const char* layer) {
  uint32_t count = 0;
  vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vkEnumerateInstanceLayerProperties(&count, layers.data());
  for (const auto& properties : layers)
    if (std::strcmp(properties.layerName, layer) == 0) return true;
  return false;
}

}  // namespace

VKAPI_ATTR VkBool32 VKAPI_CALL HostDevice::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                      VkDebugUtilsMessageTypeFlagsEXT,
                                                      const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                      void* user) {
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
    static_cast<HostDevice*>(user)->record_message(data->pMessage);
  return VK_FALSE;
}

void HostDevice::record_message(const char* message) {
  std::lock_guard lock(messages_mutex_);
  messages_.emplace_back(message ? message : "");
}

std::vector<std::string> HostDevice::messages() const {
  std::lock_guard lock(messages_mutex_);
  return messages_;
}

size_t HostDevice::message_count() const {
  std::lock_guard lock(messages_mutex_);
  return messages_.size();
}

void HostDevice::check(VkResult result, const char* call) const {
  if (result != VK_SUCCESS)
    throw std::runtime_error(std::string("host device: ") + call + " returned " + std::to_string(result));
}

HostDevice::HostDevice(const HostDeviceOptions& options) : api_version_(options.api_version) {
  if (!layer_available(kValidationLayer))
    throw std::runtime_error("host device: VK_LAYER_KHRONOS_validation is not installed");
  std::vector<const char*> layers{kValidationLayer};
  const char* profile = std::getenv("VKVISION_DEVICE_PROFILE");
  // The profile layer itself makes Vulkan 1.1 queries, invalid on an older instance.
  if (profile && profile[0] != '\0' && api_version_ >= VK_API_VERSION_1_2)
    layers.push_back(kDeviceProfileLayer);
  instance_extensions_ = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};
  std::vector<const char*> instance_extensions;
  for (const auto& name : instance_extensions_) instance_extensions.push_back(name.c_str());
  const VkValidationFeatureEnableEXT enables[] = {
      VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT validation{.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                     .enabledValidationFeatureCount = 1,
                                     .pEnabledValidationFeatures = enables};
  // Chained at creation too, so that messages of vkCreateInstance itself are the host's.
  VkDebugUtilsMessengerCreateInfoEXT messenger_info{
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .pNext = &validation,
      .messageSeverity =
          VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType =
          VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
      .pfnUserCallback = &HostDevice::on_message,
      .pUserData = this};
  VkApplicationInfo app{.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                        .pApplicationName = "vkvision test host",
                        .apiVersion = api_version_};
  VkInstanceCreateInfo instance_info{
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pNext = &messenger_info,
      .pApplicationInfo = &app,
      .enabledLayerCount = static_cast<uint32_t>(layers.size()),
      .ppEnabledLayerNames = layers.data(),
      .enabledExtensionCount = static_cast<uint32_t>(instance_extensions.size()),
      .ppEnabledExtensionNames = instance_extensions.data()};
  check(vkCreateInstance(&instance_info, nullptr, &instance_), "vkCreateInstance");
  auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
      vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
  messenger_info.pNext = nullptr;
  check(create_messenger(instance_, &messenger_info, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");

  uint32_t count = 0;
  check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> devices(count);
  check(vkEnumeratePhysicalDevices(instance_, &count, devices.data()), "vkEnumeratePhysicalDevices");
  const char* index_text = std::getenv("VKVISION_DEVICE");
  const size_t index = index_text ? static_cast<size_t>(std::atoi(index_text)) : 0;
  if (index >= devices.size())
    throw std::runtime_error("host device: no Vulkan device " + std::to_string(index));
  physical_device_ = devices[index];

  // Below 1.1 the contract's own queries (vkGetPhysicalDeviceFeatures2) are invalid: such a host
  // creates a plain device on the first family with compute.
  VkPhysicalDeviceProperties properties{};
  vkGetPhysicalDeviceProperties(physical_device_, &properties);
  // The Vulkan 1.1 and 1.2 feature structures are invalid on a device below 1.2, too.
  const bool modern_instance = api_version_ >= VK_API_VERSION_1_2;
  const bool modern_device = modern_instance && properties.apiVersion >= VK_API_VERSION_1_2;
  if (modern_instance) {
    enabled_ = device_contract(physical_device_);
    if (!options.storage_buffer_16bit) enabled_.vulkan11.storageBuffer16BitAccess = VK_FALSE;
    if (!options.shader_float16) enabled_.vulkan12.shaderFloat16 = VK_FALSE;
    if (!options.timeline_semaphore) enabled_.vulkan12.timelineSemaphore = VK_FALSE;
    if (!options.memory_budget)
      std::erase_if(enabled_.extensions, [](const char* name) {
        return std::strcmp(name, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0;
      });
  } else {
    enabled_.api_version = VK_API_VERSION_1_2;
    uint32_t family_count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_device_, &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_device_, &family_count, families.data());
    for (uint32_t i = 0; i < family_count && enabled_.queue_family < 0; ++i)
      if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) enabled_.queue_family = static_cast<int>(i);
  }
  if (enabled_.queue_family < 0) throw std::runtime_error("host device: the device has no compute queue");
  queue_family_ = static_cast<uint32_t>(enabled_.queue_family);
  for (const char* name : enabled_.extensions) device_extensions_.emplace_back(name);
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = queue_family_,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
  VkDeviceCreateInfo device_info{.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                 .pNext = modern_device ? enabled_.chain() : nullptr,
                                 .queueCreateInfoCount = 1,
                                 .pQueueCreateInfos = &queue_info,
                                 .enabledExtensionCount = static_cast<uint32_t>(enabled_.extensions.size()),
                                 .ppEnabledExtensionNames = enabled_.extensions.data()};
  check(vkCreateDevice(physical_device_, &device_info, nullptr, &device_), "vkCreateDevice");
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  submit_fence_ = create_fence();
}

HostDevice::~HostDevice() {
  if (device_) {
    vkDeviceWaitIdle(device_);
    if (job_pipeline_) vkDestroyPipeline(device_, job_pipeline_, nullptr);
    if (job_layout_) vkDestroyPipelineLayout(device_, job_layout_, nullptr);
    if (job_set_layout_) vkDestroyDescriptorSetLayout(device_, job_set_layout_, nullptr);
    if (job_descriptor_pool_) vkDestroyDescriptorPool(device_, job_descriptor_pool_, nullptr);
    for (VkCommandPool pool : pools_) vkDestroyCommandPool(device_, pool, nullptr);
    for (const Buffer& buffer : buffers_) {
      vkDestroyBuffer(device_, buffer.buffer, nullptr);
      vkFreeMemory(device_, buffer.memory, nullptr);
    }
    for (VkFence fence : fences_) vkDestroyFence(device_, fence, nullptr);
    vkDestroyDevice(device_, nullptr);
  }
  if (messenger_) {
    auto destroy_messenger = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    destroy_messenger(instance_, messenger_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

ExternalDevice HostDevice::external() const {
  ExternalDevice external;
  external.instance = instance_;
  external.physical_device = physical_device_;
  external.device = device_;
  external.queue = queue_;
  external.queue_family_index = queue_family_;
  external.api_version = api_version_;
  external.enabled_extensions = device_extensions_;
  external.enabled_instance_extensions = instance_extensions_;
  external.enabled_features = api_version_ >= VK_API_VERSION_1_2 ? &enabled_.features : nullptr;
  return external;
}

void HostDevice::use_queue_mutex(ExternalDevice& external) {
  external.lock_queue = [this](VkQueue) { queue_mutex_.lock(); };
  external.unlock_queue = [this](VkQueue) { queue_mutex_.unlock(); };
}

VkCommandPool HostDevice::create_command_pool() {
  VkCommandPoolCreateInfo info{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                               .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                               .queueFamilyIndex = queue_family_};
  VkCommandPool pool = VK_NULL_HANDLE;
  check(vkCreateCommandPool(device_, &info, nullptr, &pool), "vkCreateCommandPool");
  pools_.push_back(pool);
  return pool;
}

VkCommandBuffer HostDevice::allocate_command_buffer(VkCommandPool pool, VkCommandBufferLevel level) {
  VkCommandBufferAllocateInfo info{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                   .commandPool = pool,
                                   .level = level,
                                   .commandBufferCount = 1};
  VkCommandBuffer commands = VK_NULL_HANDLE;
  check(vkAllocateCommandBuffers(device_, &info, &commands), "vkAllocateCommandBuffers");
  return commands;
}

uint32_t HostDevice::memory_type(uint32_t allowed, VkMemoryPropertyFlags flags) const {
  VkPhysicalDeviceMemoryProperties memory{};
  vkGetPhysicalDeviceMemoryProperties(physical_device_, &memory);
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i)
    if ((allowed >> i & 1) && (memory.memoryTypes[i].propertyFlags & flags) == flags) return i;
  throw std::runtime_error("host device: no memory type with the flags " + std::to_string(flags));
}

HostDevice::Buffer HostDevice::create_buffer(VkDeviceSize size, VkBufferUsageFlags usage, bool host_visible) {
  Buffer buffer{.size = size};
  VkBufferCreateInfo info{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                          .size = size,
                          .usage = usage,
                          .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  check(vkCreateBuffer(device_, &info, nullptr, &buffer.buffer), "vkCreateBuffer");
  VkMemoryRequirements requirements{};
  vkGetBufferMemoryRequirements(device_, buffer.buffer, &requirements);
  uint32_t type = 0;
  if (!host_visible) {
    type = memory_type(requirements.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  } else {
    try {
      type = memory_type(requirements.memoryTypeBits,
                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    } catch (const std::runtime_error&) {  // a device with non-coherent host memory only
      type = memory_type(requirements.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
      buffer.coherent = false;
    }
  }
  buffer.device = device_;
  VkMemoryAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = requirements.size,
                                .memoryTypeIndex = type};
  check(vkAllocateMemory(device_, &allocate, nullptr, &buffer.memory), "vkAllocateMemory");
  check(vkBindBufferMemory(device_, buffer.buffer, buffer.memory, 0), "vkBindBufferMemory");
  if (host_visible)
    check(vkMapMemory(device_, buffer.memory, 0, VK_WHOLE_SIZE, 0, &buffer.mapped), "vkMapMemory");
  buffers_.push_back(buffer);
  return buffer;
}

void HostDevice::Buffer::flush() const {
  if (coherent || !mapped) return;
  VkMappedMemoryRange range{
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
  vkFlushMappedMemoryRanges(device, 1, &range);
}

void HostDevice::Buffer::invalidate() const {
  if (coherent || !mapped) return;
  VkMappedMemoryRange range{
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
  vkInvalidateMappedMemoryRanges(device, 1, &range);
}

VkFence HostDevice::create_fence() {
  VkFenceCreateInfo info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence = VK_NULL_HANDLE;
  check(vkCreateFence(device_, &info, nullptr, &fence), "vkCreateFence");
  fences_.push_back(fence);
  return fence;
}

void HostDevice::submit(const VkSubmitInfo& submit, VkFence fence) {
  std::lock_guard lock(queue_mutex_);
  check(vkQueueSubmit(queue_, 1, &submit, fence), "vkQueueSubmit");
}

void HostDevice::submit_and_wait(VkCommandBuffer commands) {
  std::lock_guard fence_lock(submit_fence_mutex_);
  VkSubmitInfo info{
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands};
  submit(info, submit_fence_);
  wait(submit_fence_);
}

void HostDevice::wait(VkFence fence) {
  check(vkWaitForFences(device_, 1, &fence, VK_TRUE, std::numeric_limits<uint64_t>::max()),
        "vkWaitForFences");
  check(vkResetFences(device_, 1, &fence), "vkResetFences");
}

void HostDevice::create_long_job() {
  VkDescriptorSetLayoutBinding binding{.binding = 0,
                                       .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                       .descriptorCount = 1,
                                       .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo set_info{
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 1, .pBindings = &binding};
  check(vkCreateDescriptorSetLayout(device_, &set_info, nullptr, &job_set_layout_),
        "vkCreateDescriptorSetLayout");
  VkPushConstantRange push{.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = sizeof(uint32_t)};
  VkPipelineLayoutCreateInfo layout_info{.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                         .setLayoutCount = 1,
                                         .pSetLayouts = &job_set_layout_,
                                         .pushConstantRangeCount = 1,
                                         .pPushConstantRanges = &push};
  check(vkCreatePipelineLayout(device_, &layout_info, nullptr, &job_layout_), "vkCreatePipelineLayout");
  VkShaderModuleCreateInfo module_info{.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                       .codeSize = vk::spirv_host_long_job_words * sizeof(uint32_t),
                                       .pCode = vk::spirv_host_long_job};
  VkShaderModule module = VK_NULL_HANDLE;
  check(vkCreateShaderModule(device_, &module_info, nullptr, &module), "vkCreateShaderModule");
  VkComputePipelineCreateInfo pipeline_info{
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                .pName = "main"},
      .layout = job_layout_};
  const VkResult created =
      vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &pipeline_info, nullptr, &job_pipeline_);
  vkDestroyShaderModule(device_, module, nullptr);
  check(created, "vkCreateComputePipelines");

  const Buffer result = create_buffer(16 * sizeof(float), VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, false);
  VkDescriptorPoolSize pool_size{.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 1};
  VkDescriptorPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                       .maxSets = 1,
                                       .poolSizeCount = 1,
                                       .pPoolSizes = &pool_size};
  check(vkCreateDescriptorPool(device_, &pool_info, nullptr, &job_descriptor_pool_),
        "vkCreateDescriptorPool");
  VkDescriptorSetAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = job_descriptor_pool_,
                                       .descriptorSetCount = 1,
                                       .pSetLayouts = &job_set_layout_};
  check(vkAllocateDescriptorSets(device_, &allocate, &job_set_), "vkAllocateDescriptorSets");
  VkDescriptorBufferInfo buffer_info{.buffer = result.buffer, .offset = 0, .range = VK_WHOLE_SIZE};
  VkWriteDescriptorSet write{.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                             .dstSet = job_set_,
                             .dstBinding = 0,
                             .descriptorCount = 1,
                             .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                             .pBufferInfo = &buffer_info};
  vkUpdateDescriptorSets(device_, 1, &write, 0, nullptr);
  job_pool_ = create_command_pool();
  job_commands_ = allocate_command_buffer(job_pool_);
  job_fence_ = create_fence();
}

VkFence HostDevice::submit_long_job_workgroups(uint32_t workgroups) {
  if (!job_pipeline_) create_long_job();
  check(vkResetCommandBuffer(job_commands_, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo begin{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  check(vkBeginCommandBuffer(job_commands_, &begin), "vkBeginCommandBuffer");
  vkCmdBindPipeline(job_commands_, VK_PIPELINE_BIND_POINT_COMPUTE, job_pipeline_);
  vkCmdBindDescriptorSets(job_commands_, VK_PIPELINE_BIND_POINT_COMPUTE, job_layout_, 0, 1, &job_set_, 0,
                          nullptr);
  // Below llvmpipe's limit of 65535 iterations per loop.
  const uint32_t iterations = 60000;
  vkCmdPushConstants(job_commands_, job_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(iterations),
                     &iterations);
  constexpr uint32_t kMaxGroupsX = 65535;
  vkCmdDispatch(job_commands_, std::min(workgroups, kMaxGroupsX),
                (workgroups + kMaxGroupsX - 1) / kMaxGroupsX, 1);
  check(vkEndCommandBuffer(job_commands_), "vkEndCommandBuffer");
  VkSubmitInfo info{
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &job_commands_};
  submit(info, job_fence_);
  return job_fence_;
}

VkFence HostDevice::submit_long_job(std::chrono::milliseconds duration) {
  if (!job_pipeline_) create_long_job();  // outside the timing: the pipeline's compile is long
  // Larger jobs until one takes 100 ms, so that the submit's own overhead is small against it.
  for (uint32_t workgroups = 4; job_ns_per_workgroup_ == 0; workgroups *= 4) {
    const auto start = std::chrono::steady_clock::now();
    wait(submit_long_job_workgroups(workgroups));
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (ns > 1e8 || workgroups >= (1u << 24)) job_ns_per_workgroup_ = std::max(ns / workgroups, 1e-3);
  }
  const double workgroups =
      std::chrono::duration<double, std::nano>(duration).count() / job_ns_per_workgroup_;
  return submit_long_job_workgroups(static_cast<uint32_t>(std::clamp(workgroups, 1.0, double(1u << 30))));
}

}  // namespace vkvision::testing
