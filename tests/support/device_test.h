// Test fixture for everything that runs on the Vulkan device: one context per test program with
// validation layers on (ctest sets VKVISION_VALIDATION=sync: core and synchronisation checks; the
// gpu_validation.* entries add GPU-assisted checks), and every validation message raised during a
// test fails that test, unless the test said it expects it.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ops/gemm.h"
#include "ops/half_weights.h"
#include "selftest/check_device.h"
#include "selftest/logit_bounds.h"
#include "vk/command.h"
#include "vk/context.h"
#include "vk/memory.h"
#include "vk/pipeline.h"
#include "vk/program.h"
#include "vkvision/vkvision.h"

namespace vkvision::testing {

class DeviceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!shared_context()) {
      DeviceOptions options;
      options.validation = true;
      shared_context() = vk::Context::create(options);
      shared_pipelines() = std::make_unique<vk::PipelineCache>(shared_context());
    }
  }

  void SetUp() override { messages_before_ = context().validation_message_count(); }

  void TearDown() override {
    const auto messages = context().validation_messages();
    std::vector<bool> seen(expected_messages_.size(), false);
    for (size_t i = messages_before_; i < messages.size(); ++i) {
      bool expected = false;
      for (size_t e = 0; e < expected_messages_.size(); ++e)
        if (messages[i].find(expected_messages_[e]) != std::string::npos) expected = seen[e] = true;
      if (!expected) ADD_FAILURE() << "validation: " << messages[i];
    }
    for (size_t e = 0; e < expected_messages_.size(); ++e)
      if (!seen[e]) ADD_FAILURE() << "expected a validation message containing " << expected_messages_[e];
  }

  // Tests that provoke an error on purpose (to prove a validation feature is on) name it here:
  // messages containing `text` pass, and the test fails if none arrives.
  void expect_validation_message(std::string text) { expected_messages_.push_back(std::move(text)); }

  static vk::Context& context() { return *shared_context(); }
  static std::shared_ptr<vk::Context> context_ptr() { return shared_context(); }
  static vk::PipelineCache& pipelines() { return *shared_pipelines(); }
  static const DeviceInfo& device() { return shared_context()->info(); }

  // What the device cannot run, for tests to skip by name (GTEST_SKIP() << reason) instead of
  // passing without running: empty when it can.
  static std::string tiled_family_unsupported() { return ops::gemm_tiled_unsupported_reason(device()); }
  static std::string half_weights_unsupported() { return ops::half_weights_unsupported_reason(device()); }
  // The GEMM kernel families this device runs; one it cannot is named on stdout as not run.
  static std::vector<KernelFamily> runnable_kernel_families() {
    if (const std::string reason = tiled_family_unsupported(); !reason.empty()) {
      std::printf("[ NOT RUN  ] tiled kernel family: %s\n", reason.c_str());
      return {KernelFamily::RegisterBlocked};
    }
    return {KernelFamily::RegisterBlocked, KernelFamily::SharedTiled};
  }

  // Buffers and submits (selftest/check_device.h, shared with the op checks), released after each test.
  selftest::CheckDevice& check_device() {
    if (!check_device_) check_device_ = std::make_unique<selftest::CheckDevice>(context_ptr(), pipelines());
    return *check_device_;
  }
  // A device-local buffer holding `values` (or zeros of `count` floats), kept alive by the test.
  vk::BufferSlice make_buffer(const std::vector<float>& values) { return check_device().make_buffer(values); }
  vk::BufferSlice make_buffer(size_t count, const float* values = nullptr) {
    return check_device().make_buffer(count, values);
  }
  // A packed weight stored as fp16, as the plan uploads it with Precision::Fp16 (ops::to_half).
  vk::BufferSlice make_half_buffer(const std::vector<float>& packed) {
    return check_device().make_half_buffer(packed);
  }
  // The values a kernel multiplies by when they are stored as fp16: each rounded to half and back.
  // References built from these keep the fp32-accumulation bound of the fp32 weights.
  static std::vector<float> rounded_to_half(std::vector<float> values) {
    return selftest::CheckDevice::rounded_to_half(std::move(values));
  }
  std::vector<float> read(const vk::BufferSlice& slice, size_t count) {
    return check_device().read(slice, count);
  }
  // Records the dispatches into one command buffer, submits once and waits.
  void run(std::vector<vk::Dispatch> dispatches) { check_device().run(std::move(dispatches)); }
  static std::vector<float> random_values(size_t count, uint32_t seed, float low = -1.0f, float high = 1.0f) {
    return selftest::CheckDevice::random_values(count, seed, low, high);
  }

 private:
  friend class SharedDeviceRelease;
  static std::shared_ptr<vk::Context>& shared_context() {
    static std::shared_ptr<vk::Context> context;
    return context;
  }
  static std::unique_ptr<vk::PipelineCache>& shared_pipelines() {
    static std::unique_ptr<vk::PipelineCache> cache;
    return cache;
  }
  size_t messages_before_ = 0;
  std::vector<std::string> expected_messages_;
  std::unique_ptr<selftest::CheckDevice> check_device_;
};

// Destroys the shared pipelines and context when the tests end, before main returns. Left to the
// static destructors, vkDestroyDevice would run after those of the driver's own statics (the driver
// is loaded after ours are registered), which crashes lavapipe under GPU-assisted validation.
class SharedDeviceRelease : public ::testing::Environment {
 public:
  void TearDown() override {
    DeviceTest::shared_pipelines().reset();
    DeviceTest::shared_context().reset();
  }
};
inline ::testing::Environment* const shared_device_release =
    ::testing::AddGlobalTestEnvironment(new SharedDeviceRelease);

// Largest |a - b| / (atol + rtol * |b|) over the arrays; <= 1 means within tolerance (a NaN or a
// length mismatch: infinite; selftest/logit_bounds.h).
inline double worst_tolerance_ratio(const std::vector<float>& actual, const std::vector<float>& expected,
                                    double atol, double rtol) {
  return selftest::worst_tolerance(actual, expected, atol, rtol).ratio;
}

}  // namespace vkvision::testing
