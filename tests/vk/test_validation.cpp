// Synchronisation validation, which every ctest entry runs under (VKVISION_VALIDATION=sync), is
// really on: the test provokes the hazard it exists to catch and expects the report; it skips when
// the feature is off. (GPU-assisted validation has no such test: on lavapipe it reports nothing for
// an out-of-bounds read; see docs/RELIABILITY.md.)
#include "ops/elementwise.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using testing::DeviceTest;

constexpr uint32_t kCount = 97;

class ValidationTest : public DeviceTest {
 protected:
  vk::Dispatch add(const vk::BufferSlice& a, const vk::BufferSlice& b, const vk::BufferSlice& y,
                   uint32_t count) {
    return ops::elementwise(device(), ops::ElementwiseMode::Add, count, count, a, b, y);
  }
};

TEST_F(ValidationTest, SynchronizationValidationReportsAReadOfAnUnfinishedWrite) {
  if (!context().validation().synchronization) GTEST_SKIP() << "needs VKVISION_VALIDATION=sync";
  auto a = make_buffer(kCount), b = make_buffer(kCount), t = make_buffer(kCount), y = make_buffer(kCount);
  // Each program places barriers between its own dispatches only, so two programs recorded back to
  // back read `t` with nothing between its write and the read.
  vk::DispatchProgram first(context(), pipelines(), {add(a, b, t, kCount)});
  vk::DispatchProgram second(context(), pipelines(), {add(t, b, y, kCount)});
  expect_validation_message("SYNC-HAZARD-READ-AFTER-WRITE");
  vk::CommandBuffer commands(context());
  commands.begin();
  first.record(commands);
  second.record(commands);
  commands.end();
}

}  // namespace
}  // namespace vkvision
