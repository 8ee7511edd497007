#include "cli/driver_version.h"

#include <vulkan/vulkan.h>

namespace vkvision::cli {

std::string decode_driver_version(uint32_t vendor_id, uint32_t driver_version) {
  const uint32_t v = driver_version;
  if (vendor_id == kVendorNvidia)
    return std::to_string(v >> 22) + "." + std::to_string((v >> 14) & 0xff) + "." +
           std::to_string((v >> 6) & 0xff) + "." + std::to_string(v & 0x3f);
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

}  // namespace vkvision::cli
