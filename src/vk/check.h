// One check for every Vulkan call: a failure becomes a DeviceError naming the call and the result.
#pragma once
#include <vulkan/vulkan.h>

#include <string>

#include "vkvision/error.h"

namespace vkvision::vk {

const char* result_name(VkResult result);

// The one-line message for a failed call: "device lost: ..." for VK_ERROR_DEVICE_LOST, "out of
// memory: ..." for the out-of-memory results, else the result's name and number; all name the call.
std::string failure_message(VkResult result, const char* call, const char* file, int line);

[[noreturn]] void throw_vk_error(VkResult result, const char* call, const char* file, int line);

}  // namespace vkvision::vk

#define VKV_CHECK(call)                                                                                    \
  do {                                                                                                     \
    VkResult vkv_result_ = (call);                                                                         \
    if (vkv_result_ != VK_SUCCESS) ::vkvision::vk::throw_vk_error(vkv_result_, #call, __FILE__, __LINE__); \
  } while (0)
