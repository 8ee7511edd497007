// driverVersion decoding per vendor (bench records' device.driver_version_decoded).
#include <gtest/gtest.h>

#include <vulkan/vulkan.h>

#include "cli/driver_version.h"

namespace vkvision::cli {
namespace {

TEST(DriverVersionTest, NvidiaUsesItsTenEightEightSixBitPacking) {
  // 550.54.14: (550 << 22) | (54 << 14) | (14 << 6), NVIDIA's own layout.
  const uint32_t version = (550u << 22) | (54u << 14) | (14u << 6) | 3u;
  EXPECT_EQ(decode_driver_version(kVendorNvidia, version), "550.54.14.3");
}

TEST(DriverVersionTest, OtherVendorsUseTheVulkanApiPacking) {
  EXPECT_EQ(decode_driver_version(0x10005, VK_MAKE_API_VERSION(0, 22, 3, 6)), "22.3.6");  // Mesa
  EXPECT_EQ(decode_driver_version(0x8086, VK_MAKE_API_VERSION(0, 23, 1, 0)), "23.1.0");   // Intel, Linux
  EXPECT_EQ(decode_driver_version(0x10005, 1), "0.0.1");                                  // lavapipe
}

}  // namespace
}  // namespace vkvision::cli
