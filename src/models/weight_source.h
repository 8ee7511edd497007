// Named weights a family builder reads: from a checkpoint file, or generated for a preset
// (RandomWeightSource: the builder's own requests, with their shapes, say what to generate).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "ir/layer_list.h"

namespace vkvision::models {

// How RandomWeightSource fills a tensor a builder asks for; checkpoints ignore it. Builders pass
// the initialisation that keeps a preset numerically healthy: norms at 1 and 0, BatchNorm statistics
// non-trivial but with positive variance, weights scaled to their fan-in or as the reference inits.
struct Init {
  enum class Kind { Normal, Uniform, Constant, Values };
  Kind kind = Kind::Normal;
  float a = 0, b = 0;         // Normal: a = std_dev (0: 1/sqrt(fan_in)); Uniform: [a, b); Constant: a
  std::vector<float> values;  // Values: the tensor itself (computed buffers, not learned weights)

  // N(0, std_dev); std_dev 0 means 1/sqrt(fan_in) (fan_in = numel / shape[0]), which keeps
  // activations O(1) through deep stacks.
  static Init normal(float std_dev = 0) { return {Kind::Normal, std_dev}; }
  static Init uniform(float low, float high) { return {Kind::Uniform, low, high}; }
  static Init constant(float value) { return {Kind::Constant, value}; }
  static Init zeros() { return constant(0); }
  static Init ones() { return constant(1); }
  static Init given(std::vector<float> values) { return {Kind::Values, 0, 0, std::move(values)}; }
  // Inference BatchNorm with non-trivial statistics, so that every fold a benchmark or test runs
  // works on real numbers: weight and running_var in [0.5, 1.5), bias and running_mean ~ N(0, 0.1).
  static Init batch_norm(const std::string& role);
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;

  // Copies every tensor it returns to float32 (the checkpoint need only outlive the builder).
  static WeightSource from_checkpoint(const io::Checkpoint& checkpoint);
  // Returns float32 tensors stored contiguously and aligned as views into the file's mapping, which
  // they keep alive: no copy, and pages the kernel may drop and re-read (other dtypes are converted).
  static WeightSource from_checkpoint(std::shared_ptr<const io::Checkpoint> checkpoint);
  static WeightSource from_tensors(std::map<std::string, ir::HostTensor> tensors, std::string origin);

  // Where the weights came from (the file path, or "preset NAME"): every error starts with it.
  const std::string& origin() const { return origin_; }
  virtual bool contains(const std::string& name) const;
  virtual std::vector<std::string> names() const;
  // Throws InputError("<origin>: missing tensor '<name>'").
  virtual ir::HostTensor get(const std::string& name) const;
  // Throws InputError naming the tensor when its shape differs. `init` says how a RandomWeightSource
  // creates it; a checkpoint's tensor must exist.
  virtual ir::HostTensor get(const std::string& name, const ir::Shape& expected, const Init& init) const;
  ir::HostTensor get(const std::string& name, const ir::Shape& expected) const {
    return get(name, expected, Init::normal());
  }
  virtual const std::vector<int64_t>& shape(const std::string& name) const;
  // shape(name)[axis], or InputError naming the tensor when it has too few dimensions (family
  // detection reads sizes from tensors whose rank a stranger's file chose).
  int64_t dim(const std::string& name, size_t axis) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The names of the tensors get() has not returned yet, in the checkpoint's order: after a build,
  // what the builder never consumed (strict loading, check_all_consumed in models/family.h).
  std::vector<std::string> unread_names() const;

  [[noreturn]] void fail(const std::string& problem) const;

 protected:
  explicit WeightSource(std::string origin) : origin_(std::move(origin)) {}
  WeightSource() = default;

 private:
  const io::Checkpoint* checkpoint_ = nullptr;
  std::shared_ptr<const io::Checkpoint> shared_checkpoint_;  // set when tensors may be views
  std::map<std::string, ir::HostTensor> tensors_;
  std::map<std::string, std::string> metadata_;
  std::string origin_;
  mutable std::set<std::string> read_;  // what get() returned: one builder reads a source at a time
};

// A preset's weights, made as its builder asks for them: each tensor has the name, shape and Init
// of the request, drawn from a generator seeded by (seed, name), so the values do not depend on
// the order of requests. Holds what it made; names()/get() then list and return it.
class RandomWeightSource final : public WeightSource {
 public:
  RandomWeightSource(uint32_t seed, std::string origin) : WeightSource(std::move(origin)), seed_(seed) {}

  using WeightSource::get;
  bool contains(const std::string& name) const override { return made_.count(name) != 0; }
  std::vector<std::string> names() const override;
  ir::HostTensor get(const std::string& name) const override;
  // Makes the tensor at the first request; a later one must ask for the same shape.
  ir::HostTensor get(const std::string& name, const ir::Shape& expected, const Init& init) const override;
  const std::vector<int64_t>& shape(const std::string& name) const override;
  // Everything made so far, by name.
  const std::map<std::string, ir::HostTensor>& tensors() const { return made_; }

 private:
  uint32_t seed_;
  mutable std::map<std::string, ir::HostTensor> made_;  // grows as the builder asks
};

}  // namespace vkvision::models
