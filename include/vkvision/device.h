// Vulkan device selection and the properties that decide which kernels a device gets. Plain values
// (copy and read them from any thread); Vulkan types only where a host application hands vkvision
// its own device (ExternalDevice, Runtime::wrap).
#pragma once
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vkvision {

// One memory heap as the device reports it.
struct MemoryHeapInfo {
  uint64_t size = 0;
  bool device_local = false;
  uint64_t budget = 0;  // VK_EXT_memory_budget's heapBudget when the device has it, else 0
  uint64_t usage = 0;   // VK_EXT_memory_budget's heapUsage (every process's), else 0
};

// Where one kind of vkvision buffer goes: its memory type, that type's heap and flags.
struct MemoryPath {
  int type = -1;  // -1: the device has no suitable type
  int heap = -1;
  std::string flags;  // "device-local, host-visible, coherent"
};

struct DeviceInfo {
  uint32_t index = 0;
  std::string name;
  std::string type;  // "discrete GPU", "integrated GPU", "CPU", ...
  std::string driver_name;
  std::string driver_info;
  uint32_t api_version = 0;
  uint32_t driver_version = 0;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;
  std::array<uint8_t, VK_UUID_SIZE> pipeline_cache_uuid{};
  uint32_t subgroup_size = 0;
  bool shader_float16 = false;
  bool storage_buffer_16bit = false;
  bool timeline_semaphore = false;  // Vulkan 1.2's timelineSemaphore (enabled, for a wrapped device)
  bool timestamps = false;
  float timestamp_period_ns = 0;
  uint32_t timestamp_valid_bits = 64;  // of the compute queue; tick differences are taken modulo 2^bits
  uint64_t max_storage_buffer_range = 0;
  uint32_t max_compute_shared_memory = 0;
  std::array<uint32_t, 3> max_workgroup_size{};
  uint32_t max_workgroup_invocations = 0;
  std::array<uint32_t, 3> max_workgroup_count{};
  uint32_t max_push_constants_size = 0;
  uint64_t min_storage_buffer_offset_alignment = 0;
  uint64_t min_texel_buffer_offset_alignment = 0;
  uint32_t max_texel_buffer_elements = 0;
  uint64_t non_coherent_atom_size = 1;      // flush/invalidate granularity of non-coherent memory
  uint64_t max_memory_allocation_size = 0;  // one VkDeviceMemory (Vulkan 1.1's maintenance3)
  uint64_t max_buffer_size = 0;             // one VkBuffer (maintenance4; the allocation limit without it)
  bool memory_budget = false;               // VK_EXT_memory_budget enabled: heap budgets are respected
  bool portability_subset = false;          // a portability driver (MoltenVK): VK_KHR_portability_subset on
  // RGBA32F uniform texel buffers: the cheapest loads on lavapipe (LAVAPIPE.md); kernels use them
  // when this is set and the operand fits max_texel_buffer_elements.
  bool texel_buffer_rgba32f = false;
  // RGBA16F uniform texel buffers: fp16 weights (SessionOptions::precision) on the texel paths.
  bool texel_buffer_rgba16f = false;
  uint64_t device_local_bytes = 0;  // size of the device heap (below)
  std::vector<MemoryHeapInfo> memory_heaps;
  // Where weights and activations (the device heap: the largest device-local heap), upload staging
  // and readback staging go (vk/memory_types.h).
  MemoryPath device_memory, upload_memory, readback_memory;
  // The device heap is host-visible (integrated GPUs, CPU drivers, discrete GPUs with resizable BAR):
  // weights, activations and inputs are mapped and written in place; otherwise (a discrete GPU whose
  // only host-visible device-local memory is the small BAR window) they are filled through staging.
  bool unified_memory = false;
  // Empty when vkvision can run on the device; else what it lacks ("Vulkan 1.1.0, vkvision needs 1.2").
  std::string unsupported_reason;

  // api_version as "1.3.275". Throws nothing but std::bad_alloc; thread-safe.
  std::string api_version_string() const;
};

struct DeviceOptions {
  // Which device: -1 takes VKVISION_DEVICE from the environment, else 0.
  int device_index = -1;
  // Enable VK_LAYER_KHRONOS_validation; also on when VKVISION_VALIDATION=1.
  bool validation = false;
  // Use staging copies even where device memory is host-visible (to test the discrete-GPU path).
  bool force_staging = false;
  // Bytes of device memory vkvision may hold at once; 0 = no limit but the device's own. Every
  // allocation counts (weights, activations, staging) and freed ones give their bytes back. Going
  // over throws the DeviceError a real VK_ERROR_OUT_OF_DEVICE_MEMORY gives ("out of device memory:
  // ..."), and the runtime stays usable. For applications sharing the device, and to test that path.
  uint64_t device_memory_budget = 0;
  // Longest one submit may take before vkvision reports the device hung (DeviceError) instead of
  // waiting forever; the runtime is unusable afterwards. Raise it for very large batches on slow
  // devices.
  uint32_t submit_timeout_ms = 120000;
  // Where the pipeline cache and the cached kernel-family decisions are kept between runs. Empty:
  // $VKVISION_CACHE_DIR, else $XDG_CACHE_HOME/vkvision, else ~/.cache/vkvision.
  std::filesystem::path cache_directory;
  // False: no cache file is read or written (pipelines are still cached in memory for the runtime).
  bool disk_cache = true;
};

// What vkvision can use on one physical device, ready for a host application to merge into its own
// VkDeviceCreateInfo (docs/EMBEDDING.md): the Vulkan version its instance and device must have, the
// device extensions to enable, and the feature structures with every feature vkvision can use set
// where the device has it. vkvision runs with whatever subset the host enables and states in
// ExternalDevice; the optional ones only choose faster or smaller paths.
struct DeviceContract {
  uint32_t api_version = 0;  // the least apiVersion for the instance and the device (Vulkan 1.2)
  // Device extensions vkvision uses where the device has them (VK_EXT_memory_budget, and
  // VK_KHR_portability_subset, which a portability driver requires); every one listed is present.
  std::vector<const char*> extensions;
  // features.features stays zero: vkvision needs no Vulkan 1.0 feature.
  VkPhysicalDeviceFeatures2 features{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceVulkan11Features vulkan11{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features vulkan12{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  // The queue family vkvision prefers (a compute-only one where the device has it, else the first
  // with compute); -1 when the device has no compute queue.
  int queue_family = -1;
  // Empty when vkvision can run on the device, else why not (what Runtime::wrap throws after "the
  // host's device (NAME) ").
  std::string unsupported_reason;

  // Links features -> vulkan11 -> vulkan12 -> next and returns &features, for
  // VkDeviceCreateInfo::pNext (pEnabledFeatures must then be null). Call it again after copying or
  // moving the contract: the links point into this object. Throws nothing.
  VkPhysicalDeviceFeatures2* chain(void* next = nullptr);
};

// The device contract of `physical_device`, whose instance must have been created with Vulkan 1.1 or
// later (vkGetPhysicalDeviceFeatures2); on an older instance, or a device below Vulkan 1.2, the
// contract has an unsupported_reason. Throws nothing but std::bad_alloc; thread-safe.
DeviceContract device_contract(VkPhysicalDevice physical_device);

// Handles owned by a host application that embeds vkvision, and what the host enabled on them.
// vkvision never destroys the handles, never waits on the host's work (no vkDeviceWaitIdle or
// vkQueueWaitIdle: destruction waits only for vkvision's own fences), and uses exactly the features
// and extensions stated here.
struct ExternalDevice {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  // A queue vkvision submits to (session compilation's weight uploads, run(), submit()): the host's
  // own queue with lock_queue/unlock_queue set, or one the host gives vkvision alone. Session::record
  // submits nothing.
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family_index = 0;
  // VkApplicationInfo::apiVersion of the host's instance; the device's own version is queried. 0 or
  // below 1.2 is refused (vkvision's shaders are SPIR-V 1.5).
  uint32_t api_version = 0;
  // The device extensions the host enabled (VkDeviceCreateInfo::ppEnabledExtensionNames).
  std::vector<std::string> enabled_extensions;
  // The instance extensions the host enabled; VK_EXT_debug_utils lets DeviceOptions::validation
  // attach vkvision's own messenger to the host's instance.
  std::vector<std::string> enabled_instance_extensions;
  // The feature structures the host enabled: VkDeviceCreateInfo::pNext as the host passed it.
  // vkvision reads VkPhysicalDeviceFeatures2, VkPhysicalDeviceVulkan11Features,
  // VkPhysicalDeviceVulkan12Features, VkPhysicalDevice16BitStorageFeatures,
  // VkPhysicalDeviceShaderFloat16Int8Features and VkPhysicalDeviceTimelineSemaphoreFeatures from
  // the chain and ignores the rest. Null: none enabled (fp32 weights, fences instead of timeline
  // semaphores). Read during wrap() only.
  const void* enabled_features = nullptr;
  // Called around every vkQueueSubmit vkvision makes on `queue` (the pattern of FFmpeg's Vulkan
  // hwcontext), so that a host thread submitting to the same queue takes turns with it. Both or
  // neither; they may be called from any thread that uses a vkvision session.
  std::function<void(VkQueue)> lock_queue;
  std::function<void(VkQueue)> unlock_queue;
};

// Lists every Vulkan device the loader reports (creates and destroys a temporary instance), those
// vkvision cannot use with their DeviceInfo::unsupported_reason. Throws DeviceError when there is no
// Vulkan loader or driver, or the instance cannot be created. Thread-safe.
std::vector<DeviceInfo> list_devices();

}  // namespace vkvision
