// render_and_classify: a plain Vulkan application that classifies an image living in its own
// device-local VkImage with vkvision, in the same submission as its own work.
//
//   render_and_classify MODEL IMAGE
//
//   (prints what `vkvision classify --weights MODEL IMAGE` prints)
//
// The application owns everything Vulkan: the instance, the device (created from vkvision's device
// contract), the queue, the image, the command buffer and the fence. vkvision borrows them through
// Runtime::wrap and records its dispatches into the application's command buffer; the only data
// that comes back to the CPU are the logits (one float per class). docs/EMBEDDING.md walks through
// this file.
#include <vkvision/vkvision.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

// Any Vulkan failure ends the program: a teaching sample, not a library.
void check(VkResult result, const char* what) {
  if (result == VK_SUCCESS) return;
  std::fprintf(stderr, "render_and_classify: %s failed (VkResult %d)\n", what, int(result));
  std::exit(3);
}

// With VKVISION_VALIDATION set (the test suite sets it), the application turns on the validation
// layer with synchronisation checks, so vkvision's commands inside its command buffer are checked
// with its own; every message is printed and makes the program fail.
int validation_messages = 0;
VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                          VkDebugUtilsMessageTypeFlagsEXT,
                                          const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    std::fprintf(stderr, "validation: %s\n", data->pMessage);
    ++validation_messages;
  }
  return VK_FALSE;
}

uint32_t memory_type(VkPhysicalDevice physical_device, uint32_t allowed, VkMemoryPropertyFlags wanted) {
  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(physical_device, &memory);
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i)
    if ((allowed >> i & 1) && (memory.memoryTypes[i].propertyFlags & wanted) == wanted) return i;
  std::fprintf(stderr, "render_and_classify: no memory type with flags 0x%x\n", wanted);
  std::exit(3);
}

struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void* mapped = nullptr;
};

// A host-visible buffer: the staging buffer for the image's pixels, and where the logits land.
Buffer make_host_buffer(VkPhysicalDevice physical_device, VkDevice device, VkDeviceSize size,
                        VkBufferUsageFlags usage) {
  Buffer b;
  VkBufferCreateInfo info{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage};
  check(vkCreateBuffer(device, &info, nullptr, &b.buffer), "vkCreateBuffer");
  VkMemoryRequirements needs;
  vkGetBufferMemoryRequirements(device, b.buffer, &needs);
  VkMemoryAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = needs.size,
                                .memoryTypeIndex = memory_type(physical_device, needs.memoryTypeBits,
                                                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)};
  check(vkAllocateMemory(device, &allocate, nullptr, &b.memory), "vkAllocateMemory");
  check(vkBindBufferMemory(device, b.buffer, b.memory, 0), "vkBindBufferMemory");
  check(vkMapMemory(device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped), "vkMapMemory");
  return b;
}

void image_barrier(VkCommandBuffer commands, VkImage image, VkImageLayout from, VkImageLayout to,
                   VkPipelineStageFlags source_stage, VkAccessFlags source_access,
                   VkPipelineStageFlags destination_stage, VkAccessFlags destination_access) {
  VkImageMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                               .srcAccessMask = source_access,
                               .dstAccessMask = destination_access,
                               .oldLayout = from,
                               .newLayout = to,
                               .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                               .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                               .image = image,
                               .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
  vkCmdPipelineBarrier(commands, source_stage, destination_stage, 0, 0, nullptr, 0, nullptr, 1, &barrier);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: render_and_classify MODEL IMAGE\n");
    return 2;
  }
  const bool validate = std::getenv("VKVISION_VALIDATION") != nullptr;

  // 1. The application's instance: Vulkan 1.2, which vkvision needs (DeviceContract::api_version).
  VkApplicationInfo app{.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                        .pApplicationName = "render_and_classify",
                        .apiVersion = VK_API_VERSION_1_2};
  std::vector<const char*> layers, instance_extensions;
  VkValidationFeatureEnableEXT sync_checks = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT validation_features{.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                              .enabledValidationFeatureCount = 1,
                                              .pEnabledValidationFeatures = &sync_checks};
  if (validate) {
    layers.push_back("VK_LAYER_KHRONOS_validation");
    instance_extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    instance_extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
  }
  VkInstanceCreateInfo instance_info{.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                     .pNext = validate ? &validation_features : nullptr,
                                     .pApplicationInfo = &app,
                                     .enabledLayerCount = uint32_t(layers.size()),
                                     .ppEnabledLayerNames = layers.data(),
                                     .enabledExtensionCount = uint32_t(instance_extensions.size()),
                                     .ppEnabledExtensionNames = instance_extensions.data()};
  VkInstance instance;
  check(vkCreateInstance(&instance_info, nullptr, &instance), "vkCreateInstance");
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  if (validate) {
    VkDebugUtilsMessengerCreateInfoEXT info{
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_message};
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
    check(create(instance, &info, nullptr, &messenger), "vkCreateDebugUtilsMessengerEXT");
  }

  // 2. The device, from vkvision's device contract: the extensions and features it can use on this
  //    physical device, chained into the application's own VkDeviceCreateInfo. An application with
  //    features of its own would chain them after the contract's (chain(next)).
  uint32_t count = 1;
  VkPhysicalDevice physical_device;
  if (vkEnumeratePhysicalDevices(instance, &count, &physical_device) < 0 || count == 0) {
    std::fprintf(stderr, "render_and_classify: no Vulkan device\n");
    return 3;
  }
  vkvision::DeviceContract contract = vkvision::device_contract(physical_device);
  if (!contract.unsupported_reason.empty()) {
    std::fprintf(stderr, "render_and_classify: %s\n", contract.unsupported_reason.c_str());
    return 3;
  }
  const uint32_t family = uint32_t(contract.queue_family);  // compute (and so transfer) capable
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = family,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
  VkDeviceCreateInfo device_info{.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                 .pNext = contract.chain(),
                                 .queueCreateInfoCount = 1,
                                 .pQueueCreateInfos = &queue_info,
                                 .enabledExtensionCount = uint32_t(contract.extensions.size()),
                                 .ppEnabledExtensionNames = contract.extensions.data()};
  VkDevice device;
  check(vkCreateDevice(physical_device, &device_info, nullptr, &device), "vkCreateDevice");
  VkQueue queue;
  vkGetDeviceQueue(device, family, 0, &queue);

  // 3. vkvision on the application's device. It shares the queue, so every submit of either side
  //    takes the application's queue mutex (vkvision's through lock_queue/unlock_queue).
  std::mutex queue_mutex;
  vkvision::ExternalDevice external{.instance = instance,
                                    .physical_device = physical_device,
                                    .device = device,
                                    .queue = queue,
                                    .queue_family_index = family,
                                    .api_version = app.apiVersion,
                                    .enabled_features = device_info.pNext,
                                    .lock_queue = [&](VkQueue) { queue_mutex.lock(); },
                                    .unlock_queue = [&](VkQueue) { queue_mutex.unlock(); }};
  for (const char* name : contract.extensions) external.enabled_extensions.push_back(name);
  for (const char* name : instance_extensions) external.enabled_instance_extensions.push_back(name);
  int status = 0;
  try {
    auto runtime = vkvision::Runtime::wrap(external);
    const vkvision::Model model = vkvision::Model::load(argv[1]);
    vkvision::Session session(runtime, model);  // compiled once: pipelines, weights on the device
    const uint32_t classes = model.info().num_classes;

    // 4. The application's image: a device-local RGBA8 VkImage holding the picture. A renderer
    //    would have drawn into it; here it is filled from the file through a staging buffer.
    const vkvision::Image picture = vkvision::decode_image(argv[2]);
    const VkDeviceSize pixel_bytes = VkDeviceSize(picture.width) * picture.height * 4;
    Buffer staging = make_host_buffer(physical_device, device, pixel_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    auto* rgba = static_cast<uint8_t*>(staging.mapped);
    for (size_t i = 0; i < size_t(picture.width) * picture.height; ++i)
      for (uint32_t c = 0; c < 4; ++c)  // grey replicated to RGB; opaque alpha
        rgba[i * 4 + c] =
            c == 3 ? 255 : picture.pixels[i * picture.channels + (picture.channels == 3 ? c : 0)];
    const VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;
    VkImageCreateInfo image_info{.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                                 .imageType = VK_IMAGE_TYPE_2D,
                                 .format = format,
                                 .extent = {picture.width, picture.height, 1},
                                 .mipLevels = 1,
                                 .arrayLayers = 1,
                                 .samples = VK_SAMPLE_COUNT_1_BIT,
                                 .tiling = VK_IMAGE_TILING_OPTIMAL,
                                 .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                 .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
    VkImage image;
    check(vkCreateImage(device, &image_info, nullptr, &image), "vkCreateImage");
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(device, image, &needs);
    VkMemoryAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = needs.size,
                                  .memoryTypeIndex = memory_type(physical_device, needs.memoryTypeBits,
                                                                 VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)};
    VkDeviceMemory image_memory;
    check(vkAllocateMemory(device, &allocate, nullptr, &image_memory), "vkAllocateMemory");
    check(vkBindImageMemory(device, image, image_memory, 0), "vkBindImageMemory");
    VkImageViewCreateInfo view_info{.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                    .image = image,
                                    .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                    .format = format,
                                    .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    VkImageView view;
    check(vkCreateImageView(device, &view_info, nullptr, &view), "vkCreateImageView");
    // Where the logits land: the one thing read back, classes floats.
    Buffer logits =
        make_host_buffer(physical_device, device, classes * sizeof(float), VK_BUFFER_USAGE_TRANSFER_DST_BIT);

    // 5. One command buffer: the application's upload and layout transition, then vkvision's
    //    preprocessing and network. The image is handed over in SHADER_READ_ONLY_OPTIMAL; vkvision's
    //    entry barrier waits for the transition's compute-stage scope, its exit barrier makes the
    //    logits visible to the host.
    VkCommandPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                      .queueFamilyIndex = family};
    VkCommandPool pool;
    check(vkCreateCommandPool(device, &pool_info, nullptr, &pool), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo buffer_info{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                            .commandPool = pool,
                                            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                            .commandBufferCount = 1};
    VkCommandBuffer commands;
    check(vkAllocateCommandBuffers(device, &buffer_info, &commands), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo begin{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    check(vkBeginCommandBuffer(commands, &begin), "vkBeginCommandBuffer");
    image_barrier(commands, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                  VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferImageCopy region{.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                             .imageExtent = {picture.width, picture.height, 1}};
    vkCmdCopyBufferToImage(commands, staging.buffer, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    image_barrier(commands, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                  VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_SHADER_READ_BIT);
    vkvision::Bindings bindings;
    bindings.input_images = {{.view = view,
                              .format = format,
                              .width = picture.width,
                              .height = picture.height,
                              .layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL}};
    bindings.input_stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;  // the transition's second scope
    bindings.input_access = 0;
    bindings.output_buffer = {logits.buffer, 0, classes * sizeof(float), VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    bindings.output_stages = VK_PIPELINE_STAGE_HOST_BIT;
    bindings.output_access = VK_ACCESS_HOST_READ_BIT;
    session.record(commands, bindings);  // allocates the image's tables on first use only
    check(vkEndCommandBuffer(commands), "vkEndCommandBuffer");

    // 6. The application submits and waits for its own fence, under its queue mutex.
    VkFenceCreateInfo fence_info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    check(vkCreateFence(device, &fence_info, nullptr, &fence), "vkCreateFence");
    VkSubmitInfo submit{
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands};
    {
      std::lock_guard lock(queue_mutex);
      check(vkQueueSubmit(queue, 1, &submit, fence), "vkQueueSubmit");
    }
    check(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");

    // 7. The logits, as `vkvision classify` prints them.
    const float* values = static_cast<const float*>(logits.mapped);
    const auto top = vkvision::top_k({values, classes}, classes, 5, model.info().labels);
    std::printf("%s\n", argv[2]);
    for (const auto& p : top[0]) std::printf("  %6.2f%%  %s\n", 100.0 * p.probability, p.label.c_str());

    vkDestroyFence(device, fence, nullptr);
    vkDestroyCommandPool(device, pool, nullptr);
    vkDestroyImageView(device, view, nullptr);
    vkDestroyImage(device, image, nullptr);
    vkFreeMemory(device, image_memory, nullptr);
    for (Buffer* b : {&staging, &logits}) {
      vkDestroyBuffer(device, b->buffer, nullptr);
      vkFreeMemory(device, b->memory, nullptr);
    }
  } catch (const vkvision::InputError& error) {  // vkvision's own sessions and runtime are gone here
    std::fprintf(stderr, "render_and_classify: %s\n", error.what());
    status = 2;
  } catch (const vkvision::Error& error) {
    std::fprintf(stderr, "render_and_classify: %s\n", error.what());
    status = 3;
  }

  // 8. vkvision's objects are gone (they never waited on the device); the application's go last.
  vkDestroyDevice(device, nullptr);
  if (messenger) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
    destroy(instance, messenger, nullptr);
  }
  vkDestroyInstance(instance, nullptr);
  if (validation_messages) return 1;
  return status;
}
