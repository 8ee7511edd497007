#include "selftest/check_device.h"

#include <algorithm>
#include <cstring>

#include "ops/half_weights.h"
#include "vk/command.h"

namespace vkvision::selftest {

CheckDevice::CheckDevice(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines)
    : context_(std::move(context)), pipelines_(pipelines) {}

vk::BufferSlice CheckDevice::make_buffer(size_t count, const float* values) {
  const size_t bytes = std::max<size_t>(count, 1) * sizeof(float);
  arenas_.push_back(std::make_unique<vk::Arena>(context_, bytes, vk::MemoryUse::DeviceLocal, "check buffer"));
  vk::BufferSlice slice = arenas_.back()->allocate(bytes, "check buffer");
  std::vector<float> data(std::max<size_t>(count, 1), 0.0f);
  if (values) std::memcpy(data.data(), values, count * sizeof(float));
  vk::upload(*context_, slice, data.data(), bytes);
  return slice;
}

vk::BufferSlice CheckDevice::make_half_buffer(const std::vector<float>& packed) {
  const std::vector<uint16_t> halves = ops::to_half(packed);
  const size_t bytes = std::max<size_t>(halves.size(), 4) * sizeof(uint16_t);
  arenas_.push_back(std::make_unique<vk::Arena>(context_, bytes, vk::MemoryUse::DeviceLocal, "check buffer"));
  vk::BufferSlice slice = arenas_.back()->allocate(bytes, "check buffer");
  std::vector<uint16_t> data(bytes / sizeof(uint16_t), 0);
  std::copy(halves.begin(), halves.end(), data.begin());
  vk::upload(*context_, slice, data.data(), bytes);
  return slice;
}

std::vector<float> CheckDevice::read(const vk::BufferSlice& slice, size_t count) {
  std::vector<float> values(count);
  vk::download(*context_, slice, values.data(), count * sizeof(float));
  return values;
}

void CheckDevice::run(std::vector<vk::Dispatch> dispatches) {
  vk::DispatchProgram program(*context_, pipelines_, std::move(dispatches));
  vk::CommandBuffer commands(*context_);
  commands.begin();
  program.record(commands);
  commands.barrier_transfer_to_host();
  commands.end();
  context_->submit_and_wait(commands.handle());
}

std::vector<float> CheckDevice::rounded_to_half(std::vector<float> values) {
  for (float& value : values) value = ops::half_to_float(ops::float_to_half(value));
  return values;
}

}  // namespace vkvision::selftest
