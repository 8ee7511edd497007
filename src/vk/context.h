// The Vulkan instance, physical device, logical device and compute queue vkvision works on:
// created by us, or borrowed from a host application (never destroyed then).
#pragma once
#include <vulkan/vulkan.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vk/memory_budget.h"
#include "vkvision/device.h"

namespace vkvision::vk {

// Properties, limits, memory heaps and paths, and unsupported_reason when vkvision cannot run there.
DeviceInfo query_device_info(VkPhysicalDevice physical_device, uint32_t index);
// Sets info's device/upload/readback memory paths as vk/memory_types.h chooses them.
void describe_memory_paths(DeviceInfo& info, const VkPhysicalDeviceMemoryProperties& memory,
                           bool map_device_memory);

// What the validation layer checks: VKVISION_VALIDATION (see context.cpp) or DeviceOptions::validation.
struct ValidationFeatures {
  bool layer = false;
  bool synchronization = false;  // hazards between commands (missing or wrong barriers)
  bool gpu_assisted = false;     // out-of-bounds descriptor and buffer accesses inside shaders
};

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
  const ValidationFeatures& validation() const { return validation_; }

  // Submits and waits, at most DeviceOptions::submit_timeout_ms; serialised because a queue may not
  // be used from two threads at once. The host's queue lock (ExternalDevice::lock_queue) is held
  // for the vkQueueSubmit alone, not for the wait. A lost or hung device throws DeviceError and marks the
  // context lost: every later submit, allocation and session throws at once instead of waiting on a fence.
  void submit_and_wait(VkCommandBuffer command_buffer);
  // Submits without waiting (Session::submit): serialised with every other submit of this context,
  // and under the host's queue lock (ExternalDevice::lock_queue) where it gave one. A failure marks
  // the context lost where it is a loss, else throws DeviceError.
  void submit(const VkSubmitInfo& submit, VkFence fence);
  // For waits on vkvision's own fences and semaphores outside submit_and_wait: a timeout or loss
  // marks the context lost and throws as submit_and_wait does; other failures throw DeviceError.
  void check_wait(VkResult result, const char* call);
  uint64_t submit_timeout_ns() const { return submit_timeout_ns_; }

  bool lost() const { return lost_.load(); }
  // Throws the DeviceError that marked the context lost, if one did.
  void throw_if_lost() const {
    if (lost_.load()) throw_lost();
  }
  // Test hook: the next submit waits for its work as usual, then handles `result` (e.g.
  // VK_ERROR_DEVICE_LOST, VK_TIMEOUT) as if vkWaitForFences had returned it.
  void inject_wait_result_for_testing(VkResult result);
  // True after a submit timed out while its fence is still unsignalled: the device may still read
  // and write that submit's memory, so arenas must not free theirs.
  bool submitted_work_may_be_running() const;

  // Every arena's device memory, against DeviceOptions::device_memory_budget.
  MemoryBudget& memory_budget() { return *memory_budget_; }

 private:
  Context() = default;
  void apply_options(const DeviceOptions& options);
  // Creates messenger_ on instance_ (the host's, for a wrapped device), counting into messages_.
  void attach_messenger();
  // vkQueueSubmit under the host's queue lock where it gave one.
  VkResult queue_submit(const VkSubmitInfo& submit, VkFence fence);
  // DeviceOptions::force_staging: device memory is treated as not host-visible.
  void stage_device_memory();
  [[noreturn]] void fail_submit(VkResult result, const char* call);
  void mark_lost(const std::string& reason);
  [[noreturn]] void throw_lost() const;
  void record_validation_message(const char* message);
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                         VkDebugUtilsMessageTypeFlagsEXT types,
                                                         const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                         void* user);

  bool owns_device_ = false;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  std::function<void(VkQueue)> lock_queue_, unlock_queue_;  // ExternalDevice's; empty for our own queue
  VkFence fence_ = VK_NULL_HANDLE;
  DeviceInfo info_;
  VkPhysicalDeviceMemoryProperties memory_properties_{};
  bool force_staging_ = false;
  std::mutex submit_mutex_;
  mutable std::mutex messages_mutex_;
  std::vector<std::string> messages_;
  std::atomic<size_t> validation_messages_{0};
  ValidationFeatures validation_;
  std::unique_ptr<MemoryBudget> memory_budget_ = std::make_unique<MemoryBudget>();
  uint64_t submit_timeout_ns_ = 0;
  VkResult injected_wait_result_ = VK_SUCCESS;  // guarded by submit_mutex_
  std::atomic<bool> submit_timed_out_{false};
  std::atomic<bool> lost_{false};
  mutable std::mutex lost_mutex_;
  std::string lost_reason_;  // guarded by lost_mutex_; set once
};

}  // namespace vkvision::vk
