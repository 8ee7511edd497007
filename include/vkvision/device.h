// Vulkan device selection and the properties that decide which kernels a device gets. Plain values
// (copy and read them from any thread); Vulkan types only where a host application hands vkvision
// its own device (ExternalDevice, Runtime::wrap).
#pragma once
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
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
};

// Handles owned by a host application that embeds vkvision. vkvision never destroys them; the
// queue must support compute and must not be used by another thread while vkvision submits.
struct ExternalDevice {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family_index = 0;
};

// Lists every Vulkan device the loader reports (creates and destroys a temporary instance), those
// vkvision cannot use with their DeviceInfo::unsupported_reason. Throws DeviceError when there is no
// Vulkan loader or driver, or the instance cannot be created. Thread-safe.
std::vector<DeviceInfo> list_devices();

}  // namespace vkvision
