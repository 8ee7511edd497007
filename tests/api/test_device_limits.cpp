// Device limits through the public API: a session over DeviceOptions::device_memory_budget fails
// with the out-of-memory error and leaves the runtime usable; a lost or hung device fails the run
// that saw it and every later call at once.
#include <chrono>
#include <functional>
#include <string>

#include "api_test.h"

namespace vkvision {
namespace {

using testing::expect_no_validation_messages;
using testing::memory_budget;
using testing::validated_runtime;

const testing::FixtureModel kConvNext{"convnext/timm.safetensors", "convnext/input.npy"};

// One family, so no timed kernel trial allocates while a session is built.
SessionOptions options_for(uint32_t batch, uint32_t size) {
  return {.batch = batch, .input_size = size, .kernels = KernelFamily::RegisterBlocked};
}

void expect_device_error(const std::function<void()>& call, const std::string& expected) {
  try {
    call();
    ADD_FAILURE() << "no DeviceError containing '" << expected << "'";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

TEST(DeviceLimitsTest, SessionOverTheMemoryBudgetThrowsAndTheRuntimeStaysUsable) {
  const Model model = Model::load(testing::fixture_path(kConvNext.weights));
  uint32_t size = 0;
  const std::vector<float> image = testing::first_image(kConvNext, size);

  // The most a batch-1 session holds at once, measured on a runtime without a budget.
  auto measuring = validated_runtime();
  std::vector<float> expected;
  {
    Session session(measuring, model, options_for(1, size));
    expected = session.run(image);
  }
  const uint64_t needed = memory_budget(*measuring).peak();
  ASSERT_GT(needed, 0u);
  EXPECT_EQ(memory_budget(*measuring).held(), 0u);  // a destroyed session gives all of it back

  auto runtime = validated_runtime({.device_memory_budget = needed});
  // Four images need four times the activations and input: past a budget that fits one.
  expect_device_error([&] { Session refused(runtime, model, options_for(4, size)); },
                      "out of device memory: ");
  expect_device_error([&] { Session refused(runtime, model, options_for(4, size)); },
                      "left (DeviceOptions::device_memory_budget)");
  EXPECT_EQ(memory_budget(*runtime).held(), 0u);  // the refused session left nothing allocated
  {
    Session fits(runtime, model, options_for(1, size));
    EXPECT_EQ(fits.run(image), expected);
    // A second session does not fit beside the first...
    expect_device_error([&] { Session refused(runtime, model, options_for(1, size)); },
                        "out of device memory: ");
    EXPECT_EQ(fits.run(image), expected);
  }
  // ...and does once the first is gone.
  Session again(runtime, model, options_for(1, size));
  EXPECT_EQ(again.run(image), expected);
  expect_no_validation_messages(*measuring);
  expect_no_validation_messages(*runtime);
}

// Loses (or hangs) the runtime's device at the next submit's wait, then checks that the run which
// saw it and every later call throw `expected`, the later ones in less time than one healthy run
// (failing fast: they neither submit nor wait), and that a session built afterwards allocates nothing.
void expect_loss_fails_everything_after(VkResult injected, const std::string& expected) {
  const Model model = Model::load(testing::fixture_path(kConvNext.weights));
  uint32_t size = 0;
  const std::vector<float> image = testing::first_image(kConvNext, size);
  auto runtime = validated_runtime();
  Session session(runtime, model, options_for(1, size));
  const auto healthy_start = std::chrono::steady_clock::now();
  session.run(image);
  const auto healthy_run = std::chrono::steady_clock::now() - healthy_start;

  detail::Access::state(*runtime).context->inject_wait_result_for_testing(injected);
  expect_device_error([&] { session.run(image); }, expected);
  const uint64_t held = memory_budget(*runtime).held();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto start = std::chrono::steady_clock::now();
    expect_device_error([&] { session.run(image); }, expected);
    EXPECT_LT(std::chrono::steady_clock::now() - start, healthy_run) << "attempt " << attempt;
  }
  expect_device_error([&] { Session refused(runtime, model, options_for(1, size)); }, expected);
  EXPECT_EQ(memory_budget(*runtime).held(), held);
  expect_no_validation_messages(*runtime);
}

TEST(DeviceLimitsTest, DeviceLostFailsTheRunAndEveryLaterCallAtOnce) {
  expect_loss_fails_everything_after(VK_ERROR_DEVICE_LOST,
                                     "device lost: vkWaitForFences returned VK_ERROR_DEVICE_LOST");
}

TEST(DeviceLimitsTest, HungDeviceFailsTheRunAndEveryLaterCallAtOnce) {
  expect_loss_fails_everything_after(VK_TIMEOUT, "device hung: a submit did not finish within " +
                                                     std::to_string(DeviceOptions{}.submit_timeout_ms) +
                                                     " ms");
}

}  // namespace
}  // namespace vkvision
