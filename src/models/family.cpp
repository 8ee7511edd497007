#include "models/family.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "io/untrusted.h"
#include "models/convnext.h"
#include "models/imagenet_labels.h"
#include "models/inceptionnext.h"
#include "models/mlp_mixer.h"
#include "models/repmlpnet.h"
#include "models/repvgg.h"
#include "models/swin.h"
#include "vkvision/error.h"

namespace vkvision {

std::vector<PresetInfo> list_presets() {
  std::vector<PresetInfo> result;
  for (const models::Family* family : models::families())
    for (auto& preset : family->presets()) result.push_back(preset);
  return result;
}

namespace models {
namespace {
// The largest input size metadata may ask for: past any classifier's resolution (and 16-bit like the
// CLI's limit), so sizes and activation counts stay far from overflow.
constexpr int kMaxInputSize = 4096;
}  // namespace

const std::vector<const Family*>& families() {
  static const std::vector<const Family*> all = {&convnext_family(),  &swin_family(),
                                                 &repvgg_family(),    &inceptionnext_family(),
                                                 &repmlpnet_family(), &mlp_mixer_family()};
  return all;
}

bool Family::ignorable(const std::string& name) const { return name.ends_with(".num_batches_tracked"); }

BuiltModel build_strict(const Family& family, const WeightSource& weights, const std::string& preset) {
  BuiltModel built = family.build(weights, preset);
  std::vector<std::string> unused;
  for (std::string& name : weights.unread_names())
    if (!family.ignorable(name)) unused.push_back(std::move(name));
  if (!unused.empty()) {
    std::string sample;
    for (size_t i = 0; i < unused.size() && i < 4; ++i) sample += (i ? ", " : "") + unused[i];
    weights.fail("matched " + built.info.family + " (" + built.info.naming + " naming) but " +
                 std::to_string(unused.size()) + " of its tensors have no place in that model: " + sample +
                 (unused.size() > 4 ? ", ..." : "") +
                 " (a different model, or a variant vkvision does not run)");
  }
  return built;
}

const Family& detect_family(const WeightSource& weights) {
  for (const Family* family : families())
    if (family->matches(weights)) return *family;
  const auto names = weights.names();
  std::string sample;
  for (size_t i = 0; i < names.size() && i < 4; ++i) sample += (i ? ", " : "") + names[i];
  weights.fail("matches no supported model family (" + std::to_string(names.size()) + " tensors, e.g. " +
               (sample.empty() ? "none" : sample) + "); see `vkvision models`");
}

const Family& family_of_preset(const std::string& preset) {
  std::string known;
  for (const Family* family : families())
    for (const auto& info : family->presets()) {
      if (info.name == preset) return *family;
      known += (known.empty() ? "" : ", ") + info.name;
    }
  throw InputError("unknown model '" + preset + "'; known: " + known);
}

BuiltModel random_preset(const std::string& preset, uint32_t seed) {
  const RandomWeightSource weights(seed, "preset " + preset);
  return family_of_preset(preset).build_preset(weights, preset);
}

WeightSource preset_weights(const std::string& preset, uint32_t seed) {
  const RandomWeightSource weights(seed, "preset " + preset);
  family_of_preset(preset).build_preset(weights, preset);
  return WeightSource::from_tensors(weights.tensors(), weights.origin());
}

std::vector<std::string> default_labels(const WeightSource& weights, uint32_t num_classes) {
  auto it = weights.metadata().find("vkvision.labels");
  if (it != weights.metadata().end()) {
    auto parsed = nlohmann::json::parse(it->second, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_array() || parsed.size() != num_classes)
      weights.fail("metadata vkvision.labels is not a JSON list of " + std::to_string(num_classes) +
                   " names");
    std::vector<std::string> labels;
    for (const auto& label : parsed) {
      if (!label.is_string()) weights.fail("metadata vkvision.labels holds a non-string label");
      labels.push_back(label.get<std::string>());
    }
    return labels;
  }
  std::vector<std::string> labels;
  if (num_classes == 1000)
    for (const char* name : imagenet_labels()) labels.emplace_back(name);
  else
    for (uint32_t i = 0; i < num_classes; ++i) labels.push_back("class " + std::to_string(i));
  return labels;
}

ModelInfo model_info(const WeightSource& weights, std::string family, std::string variant, std::string naming,
                     std::string config, int64_t classes, const Preprocessing& defaults) {
  ModelInfo info;
  info.family = std::move(family);
  info.variant = std::move(variant);
  info.naming = std::move(naming);
  info.origin = weights.origin();
  info.config = std::move(config);
  info.num_classes = static_cast<uint32_t>(classes);
  info.labels = default_labels(weights, info.num_classes);
  info.preprocessing = preprocessing_from_metadata(weights, defaults);
  info.pytorch_test_accuracy = recorded_accuracy(weights);
  return info;
}

double recorded_accuracy(const WeightSource& weights) {
  auto it = weights.metadata().find("vkvision.pytorch_test_accuracy");
  if (it == weights.metadata().end()) return -1;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    weights.fail("metadata vkvision.pytorch_test_accuracy is not a number: '" + io::printable(it->second) +
                 "'");
  }
}

Preprocessing preprocessing_from_metadata(const WeightSource& weights, Preprocessing defaults) {
  const auto& metadata = weights.metadata();
  auto number = [&](const char* key, double fallback) {
    auto it = metadata.find(key);
    if (it == metadata.end()) return fallback;
    try {
      return std::stod(it->second);
    } catch (const std::exception&) {
      weights.fail(std::string("metadata ") + key + " is not a number: '" + io::printable(it->second) + "'");
    }
  };
  auto list = [&](const char* key, std::vector<float> fallback) {
    auto it = metadata.find(key);
    if (it == metadata.end()) return fallback;
    auto parsed = nlohmann::json::parse(it->second, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_array())
      weights.fail(std::string("metadata ") + key + " is not a JSON list");
    std::vector<float> values;
    for (const auto& v : parsed) {
      if (!v.is_number() || !(std::abs(v.get<double>()) < 1e6))
        weights.fail(std::string("metadata ") + key + " holds a non-number or a value past 1e6");
      values.push_back(v.get<float>());
    }
    return values;
  };
  Preprocessing p = defaults;
  // Range-checked before any conversion (a double past uint32 converts with undefined behaviour).
  const double input_size = number("vkvision.input_size", defaults.input_size);
  const double crop_pct = number("vkvision.crop_pct", defaults.crop_pct);
  if (!(input_size >= 1 && input_size <= kMaxInputSize && input_size == std::floor(input_size)) ||
      !(crop_pct > 0 && crop_pct <= 1))
    weights.fail("metadata vkvision.input_size must be a whole number in [1, " +
                 std::to_string(kMaxInputSize) + "] and vkvision.crop_pct in (0, 1]");
  p.input_size = static_cast<uint32_t>(input_size);
  p.crop_pct = static_cast<float>(crop_pct);
  if (auto it = metadata.find("vkvision.interpolation"); it != metadata.end()) {
    if (it->second != "bicubic" && it->second != "bilinear")
      weights.fail("metadata vkvision.interpolation must be bicubic or bilinear, not '" +
                   io::printable(it->second) + "'");
    p.interpolation = it->second;
  }
  p.mean = list("vkvision.mean", defaults.mean);
  p.std = list("vkvision.std", defaults.std);
  if (p.mean.size() != p.channels || p.std.size() != p.channels)
    weights.fail("metadata mean/std have " + std::to_string(p.mean.size()) + "/" +
                 std::to_string(p.std.size()) + " values for a model with " + std::to_string(p.channels) +
                 " input channels");
  for (const float value : p.std)
    if (!(value > 0)) weights.fail("metadata vkvision.std holds a value that is not positive");
  return p;
}

}  // namespace models
}  // namespace vkvision
