/* vkvision's C API (C11): for C hosts, C# P/Invoke, Rust FFI and native plugins (docs/API.md).
 *
 *   vkv_runtime runtime; vkv_model model; vkv_session session;
 *   vkv_runtime_create(NULL, &runtime);
 *   vkv_model_load("convnext_tiny.safetensors", &model);
 *   vkv_session_create(runtime, model, NULL, &session);
 *   vkv_session_run(session, input, input_count, logits, logits_capacity);
 *
 * Errors: every function that can fail returns a vkv_status; no exception crosses this boundary.
 * vkv_last_error() then holds the calling thread's message, naming the function; a call that
 * returns VKV_SUCCESS sets it to the empty string, and functions without a status leave it alone.
 * Handles: opaque, created by one vkv_*_create/load/... call and freed by the matching
 * vkv_*_destroy/release (null is accepted there). Handles may be destroyed in any order: a session
 * keeps its runtime and model alive. Threading is the C++ API's (include/vkvision/vkvision.h): runtimes,
 * models and tickets may be shared between threads; a session is used by one thread at a time.
 * Strings a handle returns stay valid while the handle lives. Booleans are uint32_t 0 or 1. */
#ifndef VKVISION_VKVISION_C_H_
#define VKVISION_VKVISION_C_H_

#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

/* Marks the exported functions: default visibility for a shared libvkvision built with hidden
 * visibility; on Windows, dllexport while building a DLL (VKVISION_SHARED and VKVISION_BUILDING),
 * dllimport when using one (VKVISION_SHARED). Define VKV_API beforehand to override. */
#ifndef VKV_API
#if defined(_WIN32) && defined(VKVISION_SHARED)
#ifdef VKVISION_BUILDING
#define VKV_API __declspec(dllexport)
#else
#define VKV_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define VKV_API __attribute__((visibility("default")))
#else
#define VKV_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t vkv_status;
enum {
  VKV_SUCCESS = 0,
  VKV_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a too small array, an unknown enum value */
  VKV_ERROR_INPUT = 2,            /* vkvision::InputError: bad files, shapes, sizes, names */
  VKV_ERROR_DEVICE = 3,           /* vkvision::DeviceError: the device failed or cannot do it */
  VKV_ERROR_OUT_OF_MEMORY = 4,    /* host memory (std::bad_alloc) */
  VKV_ERROR_INTERNAL = 5,         /* anything else: a bug in vkvision */
};

typedef struct vkv_runtime_t* vkv_runtime;
typedef struct vkv_model_t* vkv_model;
typedef struct vkv_session_t* vkv_session;
typedef struct vkv_ticket_t* vkv_ticket;
typedef struct vkv_image_t* vkv_image;

/* The library's version, "MAJOR.MINOR.PATCH". Static storage; thread-safe. */
VKV_API const char* vkv_version(void);
/* The calling thread's message of its last call returning a status: "" after VKV_SUCCESS. Owned by
 * the library, valid until the thread's next such call. Thread-safe (per thread). */
VKV_API const char* vkv_last_error(void);

/* ---- Devices ---- */

typedef struct vkv_device_info {
  uint32_t index;
  char name[256];
  char type[32]; /* "discrete GPU", "integrated GPU", "CPU", ... */
  char driver_name[256];
  char driver_info[256];
  uint32_t api_version; /* VK_MAKE_API_VERSION */
  uint32_t driver_version;
  uint32_t vendor_id;
  uint32_t device_id;
  uint32_t subgroup_size;
  uint32_t shader_float16;
  uint32_t storage_buffer_16bit;
  uint32_t timeline_semaphore;
  uint32_t timestamps;
  float timestamp_period_ns;
  uint64_t max_storage_buffer_range;
  char unsupported_reason[256]; /* "" when vkvision can run on the device */
} vkv_device_info;

/* Every Vulkan device the loader reports: writes min(capacity, total) entries to devices (may be null
 * with capacity 0) and the total to *count. Creates a temporary instance. Thread-safe. */
VKV_API vkv_status vkv_list_devices(vkv_device_info* devices, uint32_t capacity, uint32_t* count);

/* What vkvision can use on a physical device, for the host's VkDeviceCreateInfo (docs/EMBEDDING.md),
 * as vkvision::DeviceContract. The instance must be Vulkan 1.1 or later. */
typedef struct vkv_device_contract {
  uint32_t api_version; /* the least apiVersion for instance and device */
  uint32_t extension_count;
  const char* extensions[8]; /* static strings: valid for the process's life */
  /* features -> vulkan11 -> vulkan12 -> NULL, chained by vkv_device_contract (and vkv_contract_chain
   * after a copy): pass &features as VkDeviceCreateInfo::pNext, pEnabledFeatures null. */
  VkPhysicalDeviceFeatures2 features;
  VkPhysicalDeviceVulkan11Features vulkan11;
  VkPhysicalDeviceVulkan12Features vulkan12;
  int32_t queue_family;         /* the preferred compute family; -1: none */
  char unsupported_reason[256]; /* "" when vkvision can run on the device */
} vkv_device_contract;

/* Fills *contract for physical_device, chained. Thread-safe. */
VKV_API vkv_status vkv_device_contract_query(VkPhysicalDevice physical_device, vkv_device_contract* contract);
/* Re-links contract's features -> vulkan11 -> vulkan12 -> next (after copying it) and returns
 * &contract->features; null for a null contract. Thread-safe on distinct contracts. */
VKV_API VkPhysicalDeviceFeatures2* vkv_device_contract_chain(vkv_device_contract* contract, void* next);

/* ---- Runtime: one Vulkan device with its pipeline cache ---- */

typedef struct vkv_runtime_options {
  int32_t device_index;          /* -1: $VKVISION_DEVICE, else 0 */
  uint32_t validation;           /* enable VK_LAYER_KHRONOS_validation (also on with VKVISION_VALIDATION) */
  const char* cache_directory;   /* null or "": $VKVISION_CACHE_DIR, $XDG_CACHE_HOME/vkvision, ... */
  uint32_t disable_disk_cache;   /* 1: no pipeline cache file is read or written */
  uint64_t device_memory_budget; /* bytes of device memory vkvision may hold; 0: no limit */
  uint32_t submit_timeout_ms;    /* 0: 120000 */
} vkv_runtime_options;

/* The defaults (device_index -1, the rest 0), which a null options pointer also means. */
VKV_API void vkv_runtime_options_init(vkv_runtime_options* options);

/* Called around each vkQueueSubmit vkvision makes on the host's queue, from any thread that uses a
 * session of the runtime. */
typedef void (*vkv_queue_callback)(VkQueue queue, void* user_data);

/* A host application's device, as vkvision::ExternalDevice; the handles stay the host's. The arrays
 * and enabled_features are read during vkv_runtime_wrap only. */
typedef struct vkv_external_device {
  VkInstance instance;
  VkPhysicalDevice physical_device;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family_index;
  uint32_t api_version; /* the host instance's VkApplicationInfo::apiVersion */
  const char* const* enabled_extensions;
  uint32_t enabled_extension_count;
  const char* const* enabled_instance_extensions;
  uint32_t enabled_instance_extension_count;
  const void* enabled_features;  /* the host's VkDeviceCreateInfo::pNext */
  vkv_queue_callback lock_queue; /* both or neither */
  vkv_queue_callback unlock_queue;
  void* queue_user_data; /* passed to both callbacks */
} vkv_external_device;

/* Opens a device (options may be null). Caller owns *runtime: vkv_runtime_destroy. Thread-safe. */
VKV_API vkv_status vkv_runtime_create(const vkv_runtime_options* options, vkv_runtime* runtime);
/* Runs on the host's device and queue (options may be null; its device_index is ignored). Caller owns
 * *runtime; the host's handles must outlive it and every session of it. Thread-safe. */
VKV_API vkv_status vkv_runtime_wrap(const vkv_external_device* device, const vkv_runtime_options* options,
                                    vkv_runtime* runtime);
/* Drops the caller's reference; sessions keep the device open until they are destroyed. */
VKV_API void vkv_runtime_destroy(vkv_runtime runtime);
/* The runtime's device, as queried at creation. Thread-safe. */
VKV_API vkv_status vkv_runtime_device_info(vkv_runtime runtime, vkv_device_info* info);
/* Validation messages seen so far (0 without validation). Thread-safe. */
VKV_API vkv_status vkv_runtime_validation_message_count(vkv_runtime runtime, uint32_t* count);

/* ---- Model: weights and metadata, immutable, shareable between threads ---- */

/* Loads a safetensors or PyTorch checkpoint. Caller owns *model: vkv_model_destroy. Thread-safe. */
VKV_API vkv_status vkv_model_load(const char* path, vkv_model* model);
/* A preset (`vkvision models`) with seeded random weights. Caller owns *model. Thread-safe. */
VKV_API vkv_status vkv_model_preset(const char* name, uint32_t seed, vkv_model* model);
VKV_API void vkv_model_destroy(vkv_model model);

typedef struct vkv_model_info {
  const char* family;  /* "convnext"; strings owned by the model */
  const char* variant; /* the preset name, or "custom" */
  const char* origin;  /* the file path, or "preset NAME" */
  const char* config;
  uint32_t num_classes;
  /* The eval transform: resize to input_size / crop_pct, centre crop, normalise per channel. */
  uint32_t input_size;
  uint32_t channels; /* 1 or 3; mean and std hold this many values */
  float crop_pct;
  const char* interpolation; /* "bicubic" or "bilinear" */
  float mean[4];
  float std[4];
} vkv_model_info;

/* Fills *info; its strings live as long as the model. Thread-safe. */
VKV_API vkv_status vkv_model_get_info(vkv_model model, vkv_model_info* info);
/* The name of class index (< num_classes), owned by the model. Thread-safe. */
VKV_API vkv_status vkv_model_label(vkv_model model, uint32_t index, const char** label);

/* ---- Images: decoding and the eval transform on the CPU, as `vkvision classify` ---- */

/* Pixels in memory: row-major, interleaved, channels 1 (grey) or 3 (RGB). */
typedef struct vkv_pixels {
  uint32_t width;
  uint32_t height;
  uint32_t channels;
  const uint8_t* data; /* width * height * channels bytes */
} vkv_pixels;

/* Decodes a PNG or JPEG file (alpha dropped). Caller owns *image: vkv_image_destroy. Thread-safe. */
VKV_API vkv_status vkv_image_decode(const char* path, vkv_image* image);
/* The same from bytes in memory; name only names it in messages (may be null). Thread-safe. */
VKV_API vkv_status vkv_image_decode_memory(const void* bytes, uint64_t size, const char* name,
                                           vkv_image* image);
VKV_API void vkv_image_destroy(vkv_image image);
/* The decoded pixels, owned by the image. Thread-safe. */
VKV_API vkv_status vkv_image_pixels(vkv_image image, vkv_pixels* pixels);

/* ---- Session: a model compiled for one device, batch and input size ---- */

enum {
  VKV_KERNELS_AUTO = 0,
  VKV_KERNELS_REGISTER_BLOCKED = 1,
  VKV_KERNELS_SHARED_TILED = 2,
  VKV_KERNELS_TIMED = 3,
};
enum {
  VKV_PRECISION_FP32 = 0,
  VKV_PRECISION_FP16 = 1,
};

typedef struct vkv_session_options {
  uint32_t batch;      /* at least 1 */
  uint32_t input_size; /* 0: the model's */
  int32_t kernels;     /* VKV_KERNELS_* */
  int32_t precision;   /* VKV_PRECISION_* */
} vkv_session_options;

/* Compiles model for runtime's device (options null: batch 1, the rest 0). Caller owns *session:
 * vkv_session_destroy. Thread-safe on distinct sessions. */
VKV_API vkv_status vkv_session_create(vkv_runtime runtime, vkv_model model,
                                      const vkv_session_options* options, vkv_session* session);
/* Waits for the session's own submissions. One thread at a time per session (for every vkv_session_*). */
VKV_API void vkv_session_destroy(vkv_session session);

typedef struct vkv_session_info {
  uint32_t batch;
  uint32_t sub_batch; /* images per submit */
  uint32_t input_size;
  uint32_t input_channels;
  uint32_t num_classes;
  uint64_t input_count;  /* floats of one run's input: batch * channels * size * size */
  uint64_t logits_count; /* floats of its logits: batch * num_classes */
  uint64_t dispatch_count;
  uint64_t barrier_count;
  uint64_t weight_bytes;
  uint64_t activation_bytes;
  char kernel_family[64]; /* "register" or "tiled", and how it was chosen */
} vkv_session_info;

VKV_API vkv_status vkv_session_get_info(vkv_session session, vkv_session_info* info);
/* input: float32 NCHW, normalised, input_count floats exactly (else VKV_ERROR_INPUT); writes
 * logits_count floats of logits [batch, classes] (capacity smaller: VKV_ERROR_INVALID_ARGUMENT). */
VKV_API vkv_status vkv_session_run(vkv_session session, const float* input, uint64_t input_count,
                                   float* logits, uint64_t logits_capacity);

typedef struct vkv_layer_timing {
  char name[128];
  char op[64];
  char output_shape[64];
  int32_t dispatches;
  double milliseconds;
  double gflop;
  double megabytes; /* the least bytes the layer moves */
} vkv_layer_timing;

/* One run with a timestamp per layer: writes min(capacity, total) rows (rows may be null with
 * capacity 0) and the total to *count. VKV_ERROR_DEVICE where the device has no timestamps. */
VKV_API vkv_status vkv_session_profile(vkv_session session, const float* input, uint64_t input_count,
                                       vkv_layer_timing* rows, uint32_t capacity, uint32_t* count);
/* The model's CPU eval transform of one image for this session's input size: writes
 * input_channels * input_size^2 floats (CHW) at input (capacity smaller: VKV_ERROR_INVALID_ARGUMENT);
 * several images go one after another for a batch. */
VKV_API vkv_status vkv_session_preprocess(vkv_session session, const vkv_pixels* pixels, float* input,
                                          uint64_t capacity);

/* ---- Top-k ---- */

typedef struct vkv_prediction {
  uint32_t index;
  float probability;
  char label[128]; /* the model's label, or "class N" (truncated to fit) */
} vkv_prediction;

/* Softmax over each row of logits [logits_count / classes, classes], then the k most probable classes
 * per row (k is capped at classes): writes rows * min(k, classes) predictions, row by row (capacity
 * smaller: VKV_ERROR_INVALID_ARGUMENT). model names them (null: "class N"). Thread-safe. */
VKV_API vkv_status vkv_top_k(const float* logits, uint64_t logits_count, uint32_t classes, uint32_t k,
                             vkv_model model, vkv_prediction* predictions, uint64_t capacity);

/* ---- GPU-resident calls (docs/EMBEDDING.md): the host's buffers, images, command buffers ---- */

typedef struct vkv_buffer_range {
  VkBuffer buffer;
  VkDeviceSize offset;
  VkDeviceSize size;
  VkBufferUsageFlags usage; /* the buffer's creation usage (TRANSFER_SRC in, TRANSFER_DST out) */
} vkv_buffer_range;

typedef struct vkv_image_input {
  VkImageView view; /* 2D, of a SAMPLED image; formats as vkvision::ImageInput */
  VkFormat format;
  uint32_t width;
  uint32_t height;
  VkImageLayout layout;                   /* VK_IMAGE_LAYOUT_UNDEFINED (0): SHADER_READ_ONLY_OPTIMAL */
  uint32_t x, y, rect_width, rect_height; /* rect_width or rect_height 0: the whole image */
} vkv_image_input;

/* vkvision::Bindings. Input: input_buffer, input_images (one per image of the batch), or neither
 * (vkv_session_write_input's). Output: output_buffer, or none (vkv_session_logits). Zero stage and
 * access masks take the C++ defaults (input: any earlier write; output: shader, transfer, host reads). */
typedef struct vkv_bindings {
  vkv_buffer_range input_buffer;
  const vkv_image_input* input_images;
  uint32_t input_image_count;
  vkv_buffer_range output_buffer;
  VkPipelineStageFlags input_stages;
  VkAccessFlags input_access;
  VkPipelineStageFlags output_stages;
  VkAccessFlags output_access;
} vkv_bindings;

/* vkvision::SubmitSync: the host's semaphores a submit waits for and signals. */
typedef struct vkv_submit_sync {
  uint32_t wait_count;
  const VkSemaphore* wait_semaphores; /* wait_count each */
  const VkPipelineStageFlags* wait_stages;
  const uint64_t* wait_values;  /* null, or wait_count timeline values */
  VkSemaphore signal_semaphore; /* may be VK_NULL_HANDLE */
  uint64_t signal_value;
} vkv_submit_sync;

/* Records the inference into the host's command buffer (between its begin and end; the runtime's
 * queue family). bindings null: all defaults. Nothing is submitted. */
VKV_API vkv_status vkv_session_record(vkv_session session, VkCommandBuffer commands,
                                      const vkv_bindings* bindings);
/* Submits the inference to the runtime's queue and returns at once (bindings and sync may be null).
 * Caller owns *ticket: vkv_ticket_release; it may outlive the session. */
VKV_API vkv_status vkv_session_submit(vkv_session session, const vkv_bindings* bindings,
                                      const vkv_submit_sync* sync, vkv_ticket* ticket);
/* *ready: 1 once the submission's work finished. Thread-safe. */
VKV_API vkv_status vkv_ticket_ready(vkv_ticket ticket, uint32_t* ready);
/* Waits at most timeout_ns (UINT64_MAX: forever); *finished: 1 when the work finished. Thread-safe. */
VKV_API vkv_status vkv_ticket_wait(vkv_ticket ticket, uint64_t timeout_ns, uint32_t* finished);
/* Frees the ticket (not the submission, which runs on). */
VKV_API void vkv_ticket_release(vkv_ticket ticket);
/* The session's own input (input_count floats, NCHW), after its submissions that read it finish. */
VKV_API vkv_status vkv_session_write_input(vkv_session session, const float* input, uint64_t input_count);
/* The logits of the last finished submission without an output buffer: waits for it, writes
 * logits_count floats (capacity smaller: VKV_ERROR_INVALID_ARGUMENT). */
VKV_API vkv_status vkv_session_logits(vkv_session session, float* logits, uint64_t logits_capacity);

#ifdef __cplusplus
}
#endif

#endif /* VKVISION_VKVISION_C_H_ */
