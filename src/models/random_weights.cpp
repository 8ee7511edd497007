#include "models/random_weights.h"

#include <cmath>

namespace vkvision::models {

void RandomTensors::normal(const std::string& name, ir::Shape shape, float std_dev) {
  if (std_dev == 0.0f) std_dev = 1.0f / std::sqrt(float(ir::shape_numel(shape) / shape[0]));
  std::normal_distribution<float> distribution(0.0f, std_dev);
  std::vector<float> values(ir::shape_numel(shape));
  for (auto& v : values) v = distribution(generator_);
  tensors_[name] = ir::HostTensor::from(std::move(shape), std::move(values));
}

void RandomTensors::constant(const std::string& name, ir::Shape shape, float value) {
  const int64_t count = ir::shape_numel(shape);
  tensors_[name] = ir::HostTensor::from(std::move(shape), std::vector<float>(count, value));
}

void RandomTensors::uniform(const std::string& name, ir::Shape shape, float low, float high) {
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(ir::shape_numel(shape));
  for (auto& v : values) v = distribution(generator_);
  tensors_[name] = ir::HostTensor::from(std::move(shape), std::move(values));
}

void RandomTensors::layer_norm(const std::string& prefix, int64_t channels) {
  constant(prefix + ".weight", {channels}, 1.0f);
  constant(prefix + ".bias", {channels}, 0.0f);
}

void RandomTensors::batch_norm(const std::string& prefix, int64_t channels) {
  uniform(prefix + ".weight", {channels}, 0.5f, 1.5f);
  normal(prefix + ".bias", {channels}, 0.1f);
  normal(prefix + ".running_mean", {channels}, 0.1f);
  uniform(prefix + ".running_var", {channels}, 0.5f, 1.5f);
}

}  // namespace vkvision::models
