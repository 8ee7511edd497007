/* The C API (include/vkvision/vkvision_c.h) from C11: the bundled model's session, the samples'
 * labels as `vkvision classify` gives them, every error path, and the GPU-resident calls on a device
 * this program creates itself (as a host application would) and wraps. Any validation message fails. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <vulkan/vulkan.h>

#include "vkvision/vkvision_c.h"

static int failures = 0;

#define CHECK(condition)                                                            \
  do {                                                                              \
    if (!(condition)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)

/* A call that must succeed; on failure says vkv_last_error() and stops (what follows needs it). */
#define MUST(call)                                                                                          \
  do {                                                                                                      \
    vkv_status status_ = (call);                                                                            \
    if (status_ != VKV_SUCCESS) {                                                                           \
      fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, status_, vkv_last_error()); \
      exit(1);                                                                                              \
    }                                                                                                       \
  } while (0)

/* A call that must fail with `expected` and leave a message containing `fragment`. */
#define EXPECT_ERROR(expected, fragment, call)                                                            \
  do {                                                                                                    \
    vkv_status status_ = (call);                                                                          \
    if (status_ != (expected) || strstr(vkv_last_error(), (fragment)) == NULL) {                          \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d with \"%s\"\n", __FILE__, __LINE__, #call, \
              status_, vkv_last_error(), (expected), (fragment));                                         \
      ++failures;                                                                                         \
    }                                                                                                     \
  } while (0)

static void* allocate(size_t bytes) {
  void* memory = calloc(1, bytes ? bytes : 1);
  if (!memory) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return memory;
}

static vkv_session create_session(vkv_runtime runtime, vkv_model model, vkv_session_info* info) {
  vkv_session session = NULL;
  MUST(vkv_session_create(runtime, model, NULL, &session));
  MUST(vkv_session_get_info(session, info));
  return session;
}

static void test_version_and_devices(void) {
  CHECK(strcmp(vkv_version(), VKV_TEST_VERSION) == 0);
  uint32_t count = 0;
  MUST(vkv_list_devices(NULL, 0, &count));
  CHECK(count >= 1);
  vkv_device_info* devices = allocate(count * sizeof(vkv_device_info));
  uint32_t again = 0;
  MUST(vkv_list_devices(devices, count, &again));
  CHECK(again == count);
  CHECK(devices[0].name[0] != '\0');
  CHECK(devices[0].api_version >= VK_API_VERSION_1_2);
  CHECK(devices[0].subgroup_size >= 1);
  CHECK(strcmp(vkv_last_error(), "") == 0); /* cleared by a success */
  free(devices);
}

/* A thread's failure sets its own last error only. */
static int fail_on_a_thread(void* message_copy) {
  vkv_model model = NULL;
  if (vkv_model_preset("no_such_preset_on_a_thread", 0, &model) != VKV_ERROR_INPUT) return 1;
  strncpy(message_copy, vkv_last_error(), 255);
  return 0;
}

static void test_last_error_per_thread(void) {
  vkv_model model = NULL;
  CHECK(vkv_model_load("/no/such/main_thread.safetensors", &model) == VKV_ERROR_INPUT);
  char thread_message[256] = {0};
  thrd_t thread;
  CHECK(thrd_create(&thread, fail_on_a_thread, thread_message) == thrd_success);
  int result = 1;
  CHECK(thrd_join(thread, &result) == thrd_success && result == 0);
  CHECK(strstr(thread_message, "no_such_preset_on_a_thread") != NULL);
  CHECK(strstr(vkv_last_error(), "main_thread.safetensors") != NULL);
  CHECK(strstr(vkv_last_error(), "no_such_preset_on_a_thread") == NULL);
}

/* The label a sample's file name states: "0000_ankle_boot.png" -> "ankle boot". */
static void label_of_file(const char* path, char* label, size_t capacity) {
  const char* name = strrchr(path, '/');
  name = name ? name + 1 : path;
  const char* start = strchr(name, '_');
  start = start ? start + 1 : name;
  size_t length = 0;
  for (; start[length] && start[length] != '.' && length + 1 < capacity; ++length)
    label[length] = start[length] == '_' ? ' ' : (char)tolower((unsigned char)start[length]);
  label[length] = '\0';
}

static int same_label(const char* model_label, const char* file_label) {
  size_t i = 0;
  for (; model_label[i] && file_label[i]; ++i)
    if (tolower((unsigned char)model_label[i]) != file_label[i]) return 0;
  return model_label[i] == file_label[i];
}

/* Each bundled sample, decoded and preprocessed through the C API, has its file's label as top-1. */
static void test_samples(vkv_session session, const vkv_session_info* info, vkv_model model) {
  char samples[] = VKV_TEST_SAMPLES; /* '|'-separated paths */
  float* input = allocate(info->input_count * sizeof(float));
  float* logits = allocate(info->logits_count * sizeof(float));
  int checked = 0;
  for (char* path = strtok(samples, "|"); path; path = strtok(NULL, "|")) {
    vkv_image image = NULL;
    MUST(vkv_image_decode(path, &image));
    vkv_pixels pixels;
    MUST(vkv_image_pixels(image, &pixels));
    CHECK(pixels.width > 0 && pixels.height > 0 && pixels.data != NULL);
    MUST(vkv_session_preprocess(session, &pixels, input, info->input_count));
    vkv_image_destroy(image);
    MUST(vkv_session_run(session, input, info->input_count, logits, info->logits_count));
    vkv_prediction top;
    MUST(vkv_top_k(logits, info->logits_count, info->num_classes, 1, model, &top, 1));
    char expected[128];
    label_of_file(path, expected, sizeof expected);
    if (!same_label(top.label, expected)) {
      fprintf(stderr, "%s: top-1 \"%s\", expected \"%s\"\n", path, top.label, expected);
      ++failures;
    }
    ++checked;
  }
  CHECK(checked >= 8);
  free(input);
  free(logits);
}

static void test_model_and_session(vkv_runtime runtime) {
  vkv_model model = NULL;
  MUST(vkv_model_load(VKV_TEST_MODEL, &model));
  vkv_model_info model_info;
  MUST(vkv_model_get_info(model, &model_info));
  CHECK(strcmp(model_info.family, "convnext") == 0);
  CHECK(model_info.num_classes == 10);
  CHECK(model_info.channels == 1);
  CHECK(model_info.input_size > 0);
  CHECK(model_info.std[0] > 0);
  CHECK(strcmp(model_info.interpolation, "bicubic") == 0 ||
        strcmp(model_info.interpolation, "bilinear") == 0);
  const char* label = NULL;
  MUST(vkv_model_label(model, 9, &label));
  CHECK(strcmp(label, "Ankle boot") == 0);

  vkv_model preset = NULL;
  MUST(vkv_model_preset("convnext_atto", 7, &preset));
  vkv_model_info preset_info;
  MUST(vkv_model_get_info(preset, &preset_info));
  CHECK(strcmp(preset_info.variant, "convnext_atto") == 0);
  CHECK(preset_info.num_classes == 1000);
  vkv_model_destroy(preset);

  vkv_session_info info;
  vkv_session session = create_session(runtime, model, &info);
  CHECK(info.batch == 1 && info.num_classes == 10);
  CHECK(info.input_count == (uint64_t)info.input_channels * info.input_size * info.input_size);
  CHECK(info.logits_count == 10);
  CHECK(info.dispatch_count > 0);
  CHECK(info.kernel_family[0] != '\0');

  /* Two runs of one input give the same logits, bit for bit. */
  float* input = allocate(info.input_count * sizeof(float));
  for (uint64_t i = 0; i < info.input_count; ++i) input[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  float first[10], second[10];
  MUST(vkv_session_run(session, input, info.input_count, first, 10));
  MUST(vkv_session_run(session, input, info.input_count, second, 10));
  CHECK(memcmp(first, second, sizeof first) == 0);

  /* Top-k: sorted probabilities, k capped at the classes. */
  vkv_prediction predictions[10];
  MUST(vkv_top_k(first, 10, 10, 3, model, predictions, 10));
  CHECK(predictions[0].probability >= predictions[1].probability);
  CHECK(predictions[1].probability >= predictions[2].probability);
  for (uint32_t c = 0; c < 10; ++c) CHECK(first[c] <= first[predictions[0].index]);
  MUST(vkv_model_label(model, predictions[0].index, &label));
  CHECK(strcmp(predictions[0].label, label) == 0);
  MUST(vkv_top_k(first, 10, 10, 50, NULL, predictions, 10));
  float total = 0;
  for (int i = 0; i < 10; ++i) total += predictions[i].probability;
  CHECK(total > 0.999f && total < 1.001f);
  CHECK(strncmp(predictions[0].label, "class ", 6) == 0);

  /* Profile: the count first, then the rows. */
  vkv_device_info device;
  MUST(vkv_runtime_device_info(runtime, &device));
  if (device.timestamps) {
    uint32_t layers = 0;
    MUST(vkv_session_profile(session, input, info.input_count, NULL, 0, &layers));
    CHECK(layers > 0);
    vkv_layer_timing* rows = allocate(layers * sizeof(vkv_layer_timing));
    uint32_t written = 0;
    MUST(vkv_session_profile(session, input, info.input_count, rows, layers, &written));
    CHECK(written == layers);
    int dispatches = 0;
    for (uint32_t i = 0; i < layers; ++i) dispatches += rows[i].dispatches;
    CHECK(dispatches > 0);
    CHECK(rows[0].name[0] != '\0' && rows[0].op[0] != '\0' && rows[0].milliseconds >= 0);
    free(rows);
  }

  test_samples(session, &info, model);
  free(input);
  vkv_session_destroy(session);
  vkv_model_destroy(model);
}

static void test_errors(vkv_runtime runtime) {
  vkv_model model = NULL;
  vkv_session session = NULL;
  vkv_runtime no_runtime = NULL;
  uint32_t count = 0;
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "count is null", vkv_list_devices(NULL, 0, NULL));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "devices is null", vkv_list_devices(NULL, 3, &count));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "runtime is null", vkv_runtime_create(NULL, NULL));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "device is null", vkv_runtime_wrap(NULL, NULL, &no_runtime));
  vkv_external_device empty;
  memset(&empty, 0, sizeof empty);
  EXPECT_ERROR(VKV_ERROR_INPUT, "must all be set", vkv_runtime_wrap(&empty, NULL, &no_runtime));
  CHECK(no_runtime == NULL);
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "count is null",
               vkv_runtime_validation_message_count(runtime, NULL));

  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "path is null", vkv_model_load(NULL, &model));
  EXPECT_ERROR(VKV_ERROR_INPUT, "/no/such/model.safetensors",
               vkv_model_load("/no/such/model.safetensors", &model));
  CHECK(model == NULL);
  EXPECT_ERROR(VKV_ERROR_INPUT, "no_such_preset", vkv_model_preset("no_such_preset", 0, &model));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "model is null", vkv_model_preset("convnext_atto", 0, NULL));
  vkv_image image = NULL;
  EXPECT_ERROR(VKV_ERROR_INPUT, "/no/such/image.png", vkv_image_decode("/no/such/image.png", &image));
  const unsigned char garbage[] = {1, 2, 3, 4};
  EXPECT_ERROR(VKV_ERROR_INPUT, "garbage.png", vkv_image_decode_memory(garbage, 4, "garbage.png", &image));
  CHECK(image == NULL);

  MUST(vkv_model_load(VKV_TEST_MODEL, &model));
  const char* label = NULL;
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "index 10", vkv_model_label(model, 10, &label));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "info is null", vkv_model_get_info(model, NULL));
  vkv_session_options options = {.batch = 0};
  EXPECT_ERROR(VKV_ERROR_INPUT, "batch", vkv_session_create(runtime, model, &options, &session));
  options.batch = 1;
  options.kernels = 9;
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "kernels 9",
               vkv_session_create(runtime, model, &options, &session));
  CHECK(session == NULL);
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "model is null",
               vkv_session_create(runtime, NULL, NULL, &session));

  vkv_session_info info;
  session = create_session(runtime, model, &info);
  float* input = allocate(info.input_count * sizeof(float));
  float logits[10];
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "input is null", vkv_session_run(session, NULL, 0, logits, 10));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "logits holds 9, 10 needed",
               vkv_session_run(session, input, info.input_count, logits, 9));
  EXPECT_ERROR(VKV_ERROR_INPUT, "", vkv_session_run(session, input, info.input_count - 1, logits, 10));
  EXPECT_ERROR(VKV_ERROR_INPUT, "", vkv_session_write_input(session, input, info.input_count + 1));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "logits holds 2", vkv_session_logits(session, logits, 2));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "rows is null",
               vkv_session_profile(session, input, info.input_count, NULL, 4, &count));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "commands is null", vkv_session_record(session, NULL, NULL));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "ticket is null", vkv_session_submit(session, NULL, NULL, NULL));
  const uint8_t two_pixels[2] = {0, 0};
  vkv_pixels pixels = {.width = 1, .height = 1, .channels = 1, .data = two_pixels};
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "input holds 3",
               vkv_session_preprocess(session, &pixels, input, 3));
  pixels.channels = 2;
  EXPECT_ERROR(VKV_ERROR_INPUT, "", vkv_session_preprocess(session, &pixels, input, info.input_count));
  pixels.channels = 1;
  pixels.data = NULL;
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "pixels->data is null",
               vkv_session_preprocess(session, &pixels, input, info.input_count));
  vkv_buffer_range tiny = {.buffer = VK_NULL_HANDLE};
  vkv_bindings bindings = {.input_buffer = tiny, .input_image_count = 1};
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "input_images is null",
               vkv_session_record(session, (VkCommandBuffer)(uintptr_t)1, &bindings));

  vkv_prediction predictions[4];
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "no multiple", vkv_top_k(logits, 9, 10, 1, model, predictions, 4));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "predictions holds 4",
               vkv_top_k(logits, 10, 10, 5, model, predictions, 4));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "classes is 0",
               vkv_top_k(logits, 10, 0, 1, model, predictions, 4));

  uint32_t flag = 0;
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "ticket is null", vkv_ticket_ready(NULL, &flag));
  EXPECT_ERROR(VKV_ERROR_INVALID_ARGUMENT, "ticket is null", vkv_ticket_wait(NULL, 0, &flag));
  CHECK(vkv_device_contract_chain(NULL, NULL) == NULL);

  /* Destroying null handles is allowed. */
  vkv_session_destroy(NULL);
  vkv_model_destroy(NULL);
  vkv_runtime_destroy(NULL);
  vkv_ticket_release(NULL);
  vkv_image_destroy(NULL);
  free(input);
  vkv_session_destroy(session);
  vkv_model_destroy(model);
}

/* ---- A host application's own device, as a C host would create it ---- */

static uint32_t host_messages = 0;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_host_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                      VkDebugUtilsMessageTypeFlagsEXT types,
                                                      const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                      void* user) {
  (void)types;
  (void)user;
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    fprintf(stderr, "host validation: %s\n", data->pMessage);
    ++host_messages;
  }
  return VK_FALSE;
}

static uint32_t queue_locks = 0;
static void lock_queue(VkQueue queue, void* user_data) {
  (void)queue;
  ++*(uint32_t*)user_data; /* one thread here: a counter stands in for the host's mutex */
}
static void unlock_queue(VkQueue queue, void* user_data) {
  (void)queue;
  (void)user_data;
}

#define VK_MUST(call)                                                                 \
  do {                                                                                \
    VkResult result_ = (call);                                                        \
    if (result_ != VK_SUCCESS) {                                                      \
      fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #call, result_); \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

/* A host-visible buffer, persistently mapped; coherent where the device has such memory, else
 * flushed and invalidated around the device's use (the integrated_noncoherent profile). */
typedef struct host_buffer {
  VkDevice device;
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkDeviceSize size;
  void* mapped;
  uint32_t coherent;
} host_buffer;

/* The index of the first allowed memory type with all of `wanted`; memoryTypeCount if none. */
static uint32_t memory_type(VkPhysicalDevice physical, uint32_t allowed, VkMemoryPropertyFlags wanted) {
  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(physical, &memory);
  uint32_t type = 0;
  while (type < memory.memoryTypeCount &&
         !((allowed >> type & 1) && (memory.memoryTypes[type].propertyFlags & wanted) == wanted))
    ++type;
  return type;
}

static host_buffer create_host_buffer(VkPhysicalDevice physical, VkDevice device, VkDeviceSize size,
                                      VkBufferUsageFlags usage) {
  host_buffer result = {.device = device, .size = size, .coherent = 1};
  VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage};
  VK_MUST(vkCreateBuffer(device, &info, NULL, &result.buffer));
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device, result.buffer, &requirements);
  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(physical, &memory);
  uint32_t type = memory_type(physical, requirements.memoryTypeBits,
                              VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  if (type == memory.memoryTypeCount) {
    type = memory_type(physical, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    result.coherent = 0;
  }
  CHECK(type < memory.memoryTypeCount);
  VkMemoryAllocateInfo allocate_info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                        .allocationSize = requirements.size,
                                        .memoryTypeIndex = type};
  VK_MUST(vkAllocateMemory(device, &allocate_info, NULL, &result.memory));
  VK_MUST(vkBindBufferMemory(device, result.buffer, result.memory, 0));
  VK_MUST(vkMapMemory(device, result.memory, 0, VK_WHOLE_SIZE, 0, &result.mapped));
  return result;
}

/* The host's writes, made available to the device before a submit. */
static void flush_host_buffer(const host_buffer* buffer) {
  VkMappedMemoryRange range = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = buffer->memory, .size = VK_WHOLE_SIZE};
  if (!buffer->coherent) VK_MUST(vkFlushMappedMemoryRanges(buffer->device, 1, &range));
}

/* The device's writes, made visible to the host after its wait. */
static void invalidate_host_buffer(const host_buffer* buffer) {
  VkMappedMemoryRange range = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = buffer->memory, .size = VK_WHOLE_SIZE};
  if (!buffer->coherent) VK_MUST(vkInvalidateMappedMemoryRanges(buffer->device, 1, &range));
}

static void destroy_host_buffer(VkDevice device, host_buffer* buffer) {
  vkDestroyBuffer(device, buffer->buffer, NULL);
  vkFreeMemory(device, buffer->memory, NULL);
}

/* A C host application's own instance and device, made as docs/EMBEDDING.md says. */
typedef struct c_host {
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  VkPhysicalDevice physical;
  vkv_device_contract contract; /* as enabled on the device: the whole contract */
  VkDevice device;
  VkQueue queue;
  VkCommandPool pool;
  VkFence fence;
} c_host;

/* The profile layer below the validation layer, as vkvision's own instances have it, where
 * VKVISION_DEVICE_PROFILE asks for a simulated device (tools/test_profiles.sh). */
static const char* const kHostLayers[] = {"VK_LAYER_KHRONOS_validation", "VK_LAYER_VKVISION_device_profile"};
static const char* const kHostInstanceExtensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME,
                                                      VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};

/* Vulkan 1.2, the validation layer with synchronisation checks, the host's own messenger. */
static void create_host_instance(c_host* host) {
  const VkValidationFeatureEnableEXT enables[] = {
      VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT validation = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                        .enabledValidationFeatureCount = 1,
                                        .pEnabledValidationFeatures = enables};
  VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .pNext = &validation,
      .messageSeverity =
          VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType =
          VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
      .pfnUserCallback = on_host_message};
  const char* profile = getenv("VKVISION_DEVICE_PROFILE");
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "vkvision C test host",
                           .apiVersion = VK_API_VERSION_1_2};
  VkInstanceCreateInfo instance_info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                        .pNext = &messenger_info,
                                        .pApplicationInfo = &app,
                                        .enabledLayerCount = profile && profile[0] ? 2 : 1,
                                        .ppEnabledLayerNames = kHostLayers,
                                        .enabledExtensionCount = 2,
                                        .ppEnabledExtensionNames = kHostInstanceExtensions};
  VK_MUST(vkCreateInstance(&instance_info, NULL, &host->instance));
  PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
      (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(host->instance,
                                                                "vkCreateDebugUtilsMessengerEXT");
  messenger_info.pNext = NULL;
  VK_MUST(create_messenger(host->instance, &messenger_info, NULL, &host->messenger));
}

/* Physical device $VKVISION_DEVICE (else 0), as vkv_runtime_create picks it, with its whole device
 * contract enabled; one queue, a pool and a fence. */
static void create_host(c_host* host) {
  memset(host, 0, sizeof *host);
  create_host_instance(host);
  uint32_t device_count = 0;
  VK_MUST(vkEnumeratePhysicalDevices(host->instance, &device_count, NULL));
  VkPhysicalDevice* devices = allocate(device_count * sizeof(VkPhysicalDevice));
  VK_MUST(vkEnumeratePhysicalDevices(host->instance, &device_count, devices));
  const char* index_text = getenv("VKVISION_DEVICE");
  const uint32_t index = index_text ? (uint32_t)atoi(index_text) : 0;
  if (index >= device_count) {
    fprintf(stderr, "no Vulkan device %u\n", index);
    exit(1);
  }
  host->physical = devices[index];
  free(devices);
  MUST(vkv_device_contract_query(host->physical, &host->contract));
  CHECK(host->contract.unsupported_reason[0] == '\0');
  CHECK(host->contract.queue_family >= 0);
  CHECK(host->contract.api_version >= VK_API_VERSION_1_2);
  const uint32_t family = (uint32_t)host->contract.queue_family;
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                        .queueFamilyIndex = family,
                                        .queueCount = 1,
                                        .pQueuePriorities = &priority};
  VkDeviceCreateInfo device_info = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                    .pNext = vkv_device_contract_chain(&host->contract, NULL),
                                    .queueCreateInfoCount = 1,
                                    .pQueueCreateInfos = &queue_info,
                                    .enabledExtensionCount = host->contract.extension_count,
                                    .ppEnabledExtensionNames = host->contract.extensions};
  VK_MUST(vkCreateDevice(host->physical, &device_info, NULL, &host->device));
  vkGetDeviceQueue(host->device, family, 0, &host->queue);
  VkCommandPoolCreateInfo pool_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                       .queueFamilyIndex = family};
  VK_MUST(vkCreateCommandPool(host->device, &pool_info, NULL, &host->pool));
  VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VK_MUST(vkCreateFence(host->device, &fence_info, NULL, &host->fence));
}

static void destroy_host(c_host* host) {
  vkDestroyFence(host->device, host->fence, NULL);
  vkDestroyCommandPool(host->device, host->pool, NULL);
  vkDestroyDevice(host->device, NULL);
  PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger =
      (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(host->instance,
                                                                 "vkDestroyDebugUtilsMessengerEXT");
  destroy_messenger(host->instance, host->messenger, NULL);
  vkDestroyInstance(host->instance, NULL);
}

/* A host's sampled image (R8G8B8A8_UNORM, optimal tiling) of decoded pixels: grey in all three colour
 * channels, opaque alpha, so that sampling gives the decoded bytes back. */
typedef struct host_image {
  VkImage image;
  VkDeviceMemory memory;
  VkImageView view;
  host_buffer staging;
  uint32_t width, height;
} host_image;

static host_image create_host_image(c_host* host, const vkv_pixels* pixels) {
  host_image result = {.width = pixels->width, .height = pixels->height};
  VkImageCreateInfo image_info = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                                  .imageType = VK_IMAGE_TYPE_2D,
                                  .format = VK_FORMAT_R8G8B8A8_UNORM,
                                  .extent = {pixels->width, pixels->height, 1},
                                  .mipLevels = 1,
                                  .arrayLayers = 1,
                                  .samples = VK_SAMPLE_COUNT_1_BIT,
                                  .tiling = VK_IMAGE_TILING_OPTIMAL,
                                  .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                  .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
  VK_MUST(vkCreateImage(host->device, &image_info, NULL, &result.image));
  VkMemoryRequirements requirements;
  vkGetImageMemoryRequirements(host->device, result.image, &requirements);
  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(host->physical, &memory);
  const uint32_t type =
      memory_type(host->physical, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  CHECK(type < memory.memoryTypeCount);
  VkMemoryAllocateInfo allocate_info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                        .allocationSize = requirements.size,
                                        .memoryTypeIndex = type};
  VK_MUST(vkAllocateMemory(host->device, &allocate_info, NULL, &result.memory));
  VK_MUST(vkBindImageMemory(host->device, result.image, result.memory, 0));
  VkImageViewCreateInfo view_info = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                     .image = result.image,
                                     .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                     .format = VK_FORMAT_R8G8B8A8_UNORM,
                                     .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
  VK_MUST(vkCreateImageView(host->device, &view_info, NULL, &result.view));
  const size_t texels = (size_t)pixels->width * pixels->height;
  result.staging =
      create_host_buffer(host->physical, host->device, texels * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
  uint8_t* rgba = result.staging.mapped;
  for (size_t i = 0; i < texels; ++i)
    for (uint32_t c = 0; c < 4; ++c)
      rgba[i * 4 + c] = c == 3 ? 255 : pixels->data[i * pixels->channels + (pixels->channels == 1 ? 0 : c)];
  flush_host_buffer(&result.staging);
  return result;
}

/* The host's upload: UNDEFINED -> TRANSFER_DST, the copy, then SHADER_READ_ONLY for compute reads. */
static void record_image_upload(VkCommandBuffer commands, const host_image* image) {
  VkImageMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                                  .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                  .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                  .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                  .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                  .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                  .image = image->image,
                                  .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
  vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                       NULL, 0, NULL, 1, &barrier);
  VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                              .imageExtent = {image->width, image->height, 1}};
  vkCmdCopyBufferToImage(commands, image->staging.buffer, image->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         1, &region);
  barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
  barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
  barrier.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
  vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0,
                       NULL, 0, NULL, 1, &barrier);
}

static void destroy_host_image(VkDevice device, host_image* image) {
  vkDestroyImageView(device, image->view, NULL);
  vkDestroyImage(device, image->image, NULL);
  vkFreeMemory(device, image->memory, NULL);
  destroy_host_buffer(device, &image->staging);
}

/* vkv_runtime_wrap on the host's handles, what it enabled, and its queue callbacks. */
static vkv_runtime wrap_host(c_host* host) {
  vkv_external_device external = {.instance = host->instance,
                                  .physical_device = host->physical,
                                  .device = host->device,
                                  .queue = host->queue,
                                  .queue_family_index = (uint32_t)host->contract.queue_family,
                                  .api_version = VK_API_VERSION_1_2,
                                  .enabled_extensions = host->contract.extensions,
                                  .enabled_extension_count = host->contract.extension_count,
                                  .enabled_instance_extensions = kHostInstanceExtensions,
                                  .enabled_instance_extension_count = 2,
                                  .enabled_features = &host->contract.features,
                                  .lock_queue = lock_queue,
                                  .unlock_queue = NULL,
                                  .queue_user_data = &queue_locks};
  vkv_runtime runtime = NULL;
  EXPECT_ERROR(VKV_ERROR_INPUT, "set together", vkv_runtime_wrap(&external, NULL, &runtime));
  external.unlock_queue = unlock_queue;
  MUST(vkv_runtime_wrap(&external, NULL, &runtime));
  return runtime;
}

/* The session recorded into the host's command buffer between the host's begin and end, submitted
 * and waited for by the host. */
static void record_on_host(c_host* host, vkv_session session, const vkv_bindings* bindings,
                           const host_image* upload) {
  VkCommandBufferAllocateInfo allocate_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                               .commandPool = host->pool,
                                               .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                               .commandBufferCount = 1};
  VkCommandBuffer commands = VK_NULL_HANDLE;
  VK_MUST(vkAllocateCommandBuffers(host->device, &allocate_info, &commands));
  VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  VK_MUST(vkBeginCommandBuffer(commands, &begin));
  if (upload) record_image_upload(commands, upload);
  MUST(vkv_session_record(session, commands, bindings));
  VK_MUST(vkEndCommandBuffer(commands));
  VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands};
  VK_MUST(vkQueueSubmit(host->queue, 1, &submit, host->fence));
  VK_MUST(vkWaitForFences(host->device, 1, &host->fence, VK_TRUE, UINT64_MAX));
  VK_MUST(vkResetFences(host->device, 1, &host->fence));
  vkFreeCommandBuffers(host->device, host->pool, 1, &commands);
}

/* Submitted by vkvision and waited for through its ticket. */
static void submit_and_wait(vkv_session session, const vkv_bindings* bindings) {
  vkv_submit_sync no_waits = {.wait_count = 0};
  vkv_ticket ticket = NULL;
  MUST(vkv_session_submit(session, bindings, &no_waits, &ticket));
  uint32_t finished = 0, ready = 0;
  MUST(vkv_ticket_wait(ticket, 60000000000ull, &finished));
  CHECK(finished == 1);
  MUST(vkv_ticket_ready(ticket, &ready));
  CHECK(ready == 1);
  vkv_ticket_release(ticket);
}

/* A sample image in the host's sampled image, preprocessed on the GPU in the host's command buffer
 * after the host's upload there: the logits equal run() on the CPU's preprocessing of it. */
static void test_image_input(c_host* host, vkv_session session, const vkv_session_info* info,
                             const vkv_bindings* buffer_bindings, const host_buffer* out) {
  vkv_image decoded = NULL;
  MUST(vkv_image_decode(VKV_TEST_IMAGE, &decoded));
  vkv_pixels pixels;
  MUST(vkv_image_pixels(decoded, &pixels));
  float* input = allocate(info->input_count * sizeof(float));
  float expected[10];
  MUST(vkv_session_preprocess(session, &pixels, input, info->input_count));
  MUST(vkv_session_run(session, input, info->input_count, expected, 10));
  host_image image = create_host_image(host, &pixels);
  vkv_image_input image_input = {.view = image.view,
                                 .format = VK_FORMAT_R8G8B8A8_UNORM,
                                 .width = image.width,
                                 .height = image.height}; /* layout 0: SHADER_READ_ONLY_OPTIMAL */
  vkv_bindings bindings = *buffer_bindings;
  memset(&bindings.input_buffer, 0, sizeof bindings.input_buffer);
  bindings.input_images = &image_input;
  bindings.input_image_count = 1;
  memset(out->mapped, 0, out->size);
  flush_host_buffer(out);
  record_on_host(host, session, &bindings, &image);
  invalidate_host_buffer(out);
  CHECK(memcmp(out->mapped, expected, sizeof expected) == 0);
  destroy_host_image(host->device, &image);
  vkv_image_destroy(decoded);
  free(input);
}

/* Recorded and submitted inferences, the host's buffers in and out or the session's own, equal run(). */
static void test_gpu_resident(void) {
  c_host host;
  create_host(&host);
  vkv_runtime runtime = wrap_host(&host);
  vkv_model model = NULL;
  MUST(vkv_model_load(VKV_TEST_MODEL, &model));
  vkv_session_info info;
  vkv_session session = create_session(runtime, model, &info);
  float* input = allocate(info.input_count * sizeof(float));
  for (uint64_t i = 0; i < info.input_count; ++i) input[i] = (float)((i * 13) % 29) / 14.0f - 1.0f;
  float expected[10], actual[10];
  MUST(vkv_session_run(session, input, info.input_count, expected, 10));
  CHECK(queue_locks > 0); /* run()'s submit took the host's lock */

  const VkBufferUsageFlags in_usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
  const VkBufferUsageFlags out_usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  host_buffer in = create_host_buffer(host.physical, host.device, info.input_count * sizeof(float), in_usage);
  host_buffer out =
      create_host_buffer(host.physical, host.device, info.logits_count * sizeof(float), out_usage);
  memcpy(in.mapped, input, in.size);
  flush_host_buffer(&in);
  vkv_bindings bindings = {.input_buffer = {.buffer = in.buffer, .size = in.size, .usage = in_usage},
                           .output_buffer = {.buffer = out.buffer, .size = out.size, .usage = out_usage},
                           .output_stages = VK_PIPELINE_STAGE_HOST_BIT,
                           .output_access = VK_ACCESS_HOST_READ_BIT};
  memset(out.mapped, 0, out.size);
  flush_host_buffer(&out);
  record_on_host(&host, session, &bindings, NULL);
  invalidate_host_buffer(&out);
  CHECK(memcmp(out.mapped, expected, sizeof expected) == 0);
  memset(out.mapped, 0, out.size);
  flush_host_buffer(&out);
  submit_and_wait(session, &bindings);
  invalidate_host_buffer(&out);
  CHECK(memcmp(out.mapped, expected, sizeof expected) == 0);
  MUST(vkv_session_write_input(session, input, info.input_count));
  submit_and_wait(session, NULL);
  MUST(vkv_session_logits(session, actual, 10));
  CHECK(memcmp(actual, expected, sizeof expected) == 0);
  test_image_input(&host, session, &info, &bindings, &out);

  /* A ticket may outlive its session. */
  vkv_ticket last = NULL;
  MUST(vkv_session_submit(session, NULL, NULL, &last));
  vkv_session_destroy(session);
  uint32_t finished = 0;
  MUST(vkv_ticket_wait(last, UINT64_MAX, &finished));
  CHECK(finished == 1);
  vkv_ticket_release(last);

  uint32_t messages = 0;
  MUST(vkv_runtime_validation_message_count(runtime, &messages));
  CHECK(messages == 0);
  vkv_model_destroy(model);
  vkv_runtime_destroy(runtime);
  free(input);
  destroy_host_buffer(host.device, &in);
  destroy_host_buffer(host.device, &out);
  destroy_host(&host);
  CHECK(host_messages == 0);
}

int main(void) {
  test_version_and_devices();
  test_last_error_per_thread();
  vkv_runtime_options options;
  vkv_runtime_options_init(&options);
  options.validation = 1;
  vkv_runtime runtime = NULL;
  MUST(vkv_runtime_create(&options, &runtime));
  test_model_and_session(runtime);
  test_errors(runtime);
  uint32_t messages = 1;
  MUST(vkv_runtime_validation_message_count(runtime, &messages));
  CHECK(messages == 0);
  vkv_runtime_destroy(runtime);
  test_gpu_resident();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("C API: all checks passed\n");
  return 0;
}
