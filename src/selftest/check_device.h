// The device side of a conformance check (selftest/op_check.h): buffers filled from the host, one
// submit of a check's dispatches, results read back. Shared by `vkvision selftest` and the op tests
// (tests/support/device_test.h forwards to it), so a check runs the same way in both.
#pragma once
#include <memory>
#include <random>
#include <vector>

#include "vk/context.h"
#include "vk/memory.h"
#include "vk/pipeline.h"
#include "vk/program.h"

namespace vkvision::selftest {

class CheckDevice {
 public:
  CheckDevice(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines);

  vk::Context& context() const { return *context_; }
  vk::PipelineCache& pipelines() const { return pipelines_; }
  const DeviceInfo& device() const { return context_->info(); }

  // A device-local buffer holding `values` (or zeros of `count` floats), kept until release_buffers().
  vk::BufferSlice make_buffer(const std::vector<float>& values) {
    return make_buffer(values.size(), values.data());
  }
  vk::BufferSlice make_buffer(size_t count, const float* values = nullptr);
  // A packed weight stored as fp16, as the plan uploads it with Precision::Fp16 (ops::to_half).
  vk::BufferSlice make_half_buffer(const std::vector<float>& packed);
  std::vector<float> read(const vk::BufferSlice& slice, size_t count);
  // Records the dispatches into one command buffer, submits once and waits.
  void run(std::vector<vk::Dispatch> dispatches);
  void release_buffers() { arenas_.clear(); }

  // The values a kernel multiplies by when they are stored as fp16: each rounded to half and back.
  static std::vector<float> rounded_to_half(std::vector<float> values);
  static std::vector<float> random_values(size_t count, uint32_t seed, float low = -1.0f, float high = 1.0f) {
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> distribution(low, high);
    std::vector<float> values(count);
    for (auto& value : values) value = distribution(generator);
    return values;
  }

 private:
  std::shared_ptr<vk::Context> context_;
  vk::PipelineCache& pipelines_;
  std::vector<std::unique_ptr<vk::Arena>> arenas_;
};

}  // namespace vkvision::selftest
