// Seeded random tensors for a preset's weights (benchmarks, tests, `--model NAME` without a file):
// the pieces every family's random_weights() is made of, in one place.
#pragma once
#include <map>
#include <random>
#include <string>

#include "ir/layer_list.h"
#include "models/weight_source.h"

namespace vkvision::models {

class RandomTensors {
 public:
  explicit RandomTensors(uint32_t seed) : generator_(seed) {}

  // N(0, std_dev); std_dev 0 means 1/sqrt(fan_in) (fan_in = numel / shape[0]), which keeps
  // activations O(1) through deep stacks.
  void normal(const std::string& name, ir::Shape shape, float std_dev = 0.0f);
  void constant(const std::string& name, ir::Shape shape, float value);
  void uniform(const std::string& name, ir::Shape shape, float low, float high);
  // LayerNorm at its initialisation: weight 1, bias 0.
  void layer_norm(const std::string& prefix, int64_t channels);
  // Inference BatchNorm with non-trivial statistics (weight and running_var in [0.5, 1.5), bias and
  // running_mean ~ N(0, 0.1)), so that every fold a benchmark or test runs works on real numbers.
  void batch_norm(const std::string& prefix, int64_t channels);
  void set(const std::string& name, ir::HostTensor tensor) { tensors_[name] = std::move(tensor); }

  WeightSource finish(const std::string& preset) { return WeightSource::from_tensors(std::move(tensors_), "preset " + preset); }

 private:
  std::mt19937 generator_;
  std::map<std::string, ir::HostTensor> tensors_;
};

}  // namespace vkvision::models
