// VkPhysicalDeviceProperties::driverVersion as the vendor's own version string: the field's packing
// is vendor-defined (only the API version's is standard).
#pragma once
#include <cstdint>
#include <string>

namespace vkvision::cli {

inline constexpr uint32_t kVendorNvidia = 0x10DE;

// NVIDIA: 10.8.8.6 bits, "major.minor.patch.build"; every other vendor here (Intel's own packing is
// Windows-only; Mesa, AMD and the rest use it): VK_API_VERSION_MAJOR.MINOR.PATCH. Throws nothing but
// std::bad_alloc.
std::string decode_driver_version(uint32_t vendor_id, uint32_t driver_version);

}  // namespace vkvision::cli
