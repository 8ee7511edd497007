// A stand-in for a host application that embeds vkvision (Runtime::wrap): its own VkInstance with
// the validation layer (core, thread-safety and synchronisation checks) and its own messenger, a
// VkDevice created from device_contract() with one queue, and the few things a host does with them
// (command buffers, buffers, submits under its queue mutex, a long compute job).
//
//   HostDevice host;                                  // or HostDevice host({.storage_buffer_16bit = false});
//   ExternalDevice external = host.external();
//   host.use_queue_mutex(external);                   // when a host thread submits concurrently
//   auto runtime = Runtime::wrap(external);
//   ...
//   EXPECT_EQ(host.messages(), std::vector<std::string>{});
//
// Destroy every runtime and session before the HostDevice (a host outlives what it lends out). Not
// thread-safe except where a member says so.
#pragma once
#include <vulkan/vulkan.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "vkvision/device.h"

namespace vkvision::testing {

struct HostDeviceOptions {
  // VkApplicationInfo::apiVersion of the host's instance (and ExternalDevice::api_version). Below
  // 1.2 the device gets no feature structures and no extensions (their queries are 1.1 functions),
  // so that refusing it raises no validation message of its own; nor does a device below 1.2.
  uint32_t api_version = VK_API_VERSION_1_2;
  // Each false leaves that feature of the contract off (it stays off where the device lacks it).
  bool storage_buffer_16bit = true;
  bool shader_float16 = true;
  bool timeline_semaphore = true;
  bool memory_budget = true;  // VK_EXT_memory_budget where the contract lists it
};

class HostDevice {
 public:
  // Physical device VKVISION_DEVICE (else 0); with VKVISION_DEVICE_PROFILE set an instance of
  // Vulkan 1.2 or later also enables the device-profile layer, below the validation layer, as
  // vk::Context does. Throws
  // std::runtime_error when the validation layer or the device is missing or a Vulkan call fails.
  explicit HostDevice(const HostDeviceOptions& options = {});
  // Waits for the host's own device to go idle (the host may), then destroys what it created.
  ~HostDevice();
  HostDevice(const HostDevice&) = delete;
  HostDevice& operator=(const HostDevice&) = delete;

  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical_device() const { return physical_device_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  uint32_t api_version() const { return api_version_; }
  // The contract as the device was created with it: the options' disabled features cleared.
  const DeviceContract& enabled() const { return enabled_; }
  const std::vector<std::string>& device_extensions() const { return device_extensions_; }
  const std::vector<std::string>& instance_extensions() const { return instance_extensions_; }

  // The handles and what was enabled on them, as Runtime::wrap takes them: api_version, both
  // extension lists (VK_EXT_debug_utils among the instance's), enabled_features pointing at
  // enabled()'s chain (valid while this object lives). No queue lock: see use_queue_mutex.
  ExternalDevice external() const;
  // Sets external's lock_queue/unlock_queue to lock and unlock queue_mutex().
  void use_queue_mutex(ExternalDevice& external);
  // The host's queue mutex: held around every vkQueueSubmit of this object. Thread-safe.
  std::mutex& queue_mutex() { return queue_mutex_; }

  // Warnings and errors the host's own messenger received (every message of the instance: the
  // validation layer reports vkvision's calls on it too). Thread-safe.
  std::vector<std::string> messages() const;
  size_t message_count() const;

  // Owned by this object and destroyed with it. A pool's buffers are resettable; use one pool per
  // thread (pools are externally synchronised).
  VkCommandPool create_command_pool();
  VkCommandBuffer allocate_command_buffer(VkCommandPool pool,
                                          VkCommandBufferLevel level = VK_COMMAND_BUFFER_LEVEL_PRIMARY);
  struct Buffer {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
    void* mapped = nullptr;  // host_visible buffers: persistently mapped
    VkDevice device = VK_NULL_HANDLE;
    bool coherent = true;  // false where the device has only non-coherent host-visible memory
    // After host writes through `mapped` / before host reads of it; no-ops on coherent memory.
    void flush() const;
    void invalidate() const;
  };
  // usage: VK_BUFFER_USAGE_*; host_visible: HOST_VISIBLE memory, coherent where the device has it
  // (else flush and invalidate it), otherwise DEVICE_LOCAL.
  Buffer create_buffer(VkDeviceSize size, VkBufferUsageFlags usage, bool host_visible);
  VkFence create_fence();

  // vkQueueSubmit under queue_mutex() (fence may be null). Thread-safe.
  void submit(const VkSubmitInfo& submit, VkFence fence);
  // Submits one command buffer under queue_mutex(), then waits for it outside the mutex. Thread-safe.
  void submit_and_wait(VkCommandBuffer commands);
  // Waits for a fence of this object (no timeout) and resets it.
  void wait(VkFence fence);

  // Submits a compute job (workgroups of one invocation, each looping on a dependent float chain)
  // calibrated on first use to take about `duration` on this device, and returns its fence (owned by this
  // object) at once. The same job must not be submitted again before its fence is waited for.
  VkFence submit_long_job(std::chrono::milliseconds duration);

 private:
  void check(VkResult result, const char* call) const;
  void record_message(const char* message);
  uint32_t memory_type(uint32_t allowed, VkMemoryPropertyFlags flags) const;
  void create_long_job();
  VkFence submit_long_job_workgroups(uint32_t workgroups);
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT types,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                   void* user);

  uint32_t api_version_ = 0;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  DeviceContract enabled_;
  std::vector<std::string> device_extensions_, instance_extensions_;
  std::mutex queue_mutex_;
  mutable std::mutex messages_mutex_;
  std::vector<std::string> messages_;

  std::vector<VkCommandPool> pools_;
  std::vector<Buffer> buffers_;
  std::vector<VkFence> fences_;
  VkFence submit_fence_ = VK_NULL_HANDLE;  // submit_and_wait's; guarded by submit_fence_mutex_
  std::mutex submit_fence_mutex_;

  // The long job: one pipeline, one storage buffer, one command buffer re-recorded per submit.
  VkDescriptorSetLayout job_set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout job_layout_ = VK_NULL_HANDLE;
  VkPipeline job_pipeline_ = VK_NULL_HANDLE;
  VkDescriptorPool job_descriptor_pool_ = VK_NULL_HANDLE;
  VkDescriptorSet job_set_ = VK_NULL_HANDLE;
  VkCommandPool job_pool_ = VK_NULL_HANDLE;
  VkCommandBuffer job_commands_ = VK_NULL_HANDLE;
  VkFence job_fence_ = VK_NULL_HANDLE;
  double job_ns_per_workgroup_ = 0;  // calibrated on the first submit_long_job
};

}  // namespace vkvision::testing
