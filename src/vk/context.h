// The Vulkan instance, physical device, logical device and compute queue vkvision works on:
// created by us, or borrowed from a host application (never destroyed then).
#pragma once
#include <vulkan/vulkan.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vkvision/device.h"

namespace vkvision::vk {

DeviceInfo query_device_info(VkPhysicalDevice physical_device, uint32_t index);

class Context {
 public:
  static std::shared_ptr<Context> create(const DeviceOptions& options);
  static std::shared_ptr<Context> wrap(const ExternalDevice& external, const DeviceOptions& options);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical_device() const { return physical_device_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceInfo& info() const { return info_; }
  const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_properties_; }
  bool force_staging() const { return force_staging_; }

  // Validation messages (warnings and errors) seen since creation; tests fail on any.
  size_t validation_message_count() const { return validation_messages_.load(); }
  std::vector<std::string> validation_messages() const;

  // Submits and waits; serialised because a borrowed queue may not be used concurrently.
  void submit_and_wait(VkCommandBuffer command_buffer);

 private:
  Context() = default;
  void record_validation_message(const char* message);
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(
      VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
      const VkDebugUtilsMessengerCallbackDataEXT* data, void* user);

  bool owns_device_ = false;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  VkFence fence_ = VK_NULL_HANDLE;
  DeviceInfo info_;
  VkPhysicalDeviceMemoryProperties memory_properties_{};
  bool force_staging_ = false;
  std::mutex submit_mutex_;
  mutable std::mutex messages_mutex_;
  std::vector<std::string> messages_;
  std::atomic<size_t> validation_messages_{0};
};

}  // namespace vkvision::vk
