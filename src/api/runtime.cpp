#include "api/state.h"

namespace vkvision {

Runtime::Runtime(std::shared_ptr<detail::RuntimeState> state) : state_(std::move(state)) {}

std::shared_ptr<Runtime> Runtime::create(const DeviceOptions& options) {
  auto state = std::make_shared<detail::RuntimeState>();
  state->context = vk::Context::create(options);
  state->pipelines =
      std::make_unique<vk::PipelineCache>(state->context, options.cache_directory, options.disk_cache);
  return detail::Access::make_runtime(std::move(state));
}

std::shared_ptr<Runtime> Runtime::wrap(const ExternalDevice& device, const DeviceOptions& options) {
  auto state = std::make_shared<detail::RuntimeState>();
  state->context = vk::Context::wrap(device, options);
  state->pipelines =
      std::make_unique<vk::PipelineCache>(state->context, options.cache_directory, options.disk_cache);
  return detail::Access::make_runtime(std::move(state));
}

const DeviceInfo& Runtime::device() const { return state_->context->info(); }

std::vector<std::string> Runtime::validation_messages() const {
  return state_->context->validation_messages();
}

}  // namespace vkvision
