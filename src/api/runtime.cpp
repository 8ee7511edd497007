#include "api/state.h"

namespace vkvision {

std::shared_ptr<Runtime> Runtime::create(const DeviceOptions& options) {
  auto runtime = std::make_shared<Runtime>();
  runtime->state = std::make_shared<detail::RuntimeState>();
  runtime->state->context = vk::Context::create(options);
  runtime->state->pipelines = std::make_unique<vk::PipelineCache>(runtime->state->context);
  return runtime;
}

std::shared_ptr<Runtime> Runtime::wrap(const ExternalDevice& device, const DeviceOptions& options) {
  auto runtime = std::make_shared<Runtime>();
  runtime->state = std::make_shared<detail::RuntimeState>();
  runtime->state->context = vk::Context::wrap(device, options);
  runtime->state->pipelines = std::make_unique<vk::PipelineCache>(runtime->state->context);
  return runtime;
}

const DeviceInfo& Runtime::device() const { return state->context->info(); }

std::vector<std::string> Runtime::validation_messages() const { return state->context->validation_messages(); }

}  // namespace vkvision
