// A model family: recognises its checkpoints by tensor names, infers the configuration from names
// and shapes, and builds the layer list. One builder per family in src/models/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/layer_list.h"
#include "models/weight_source.h"
#include "vkvision/model.h"

namespace vkvision::models {

struct BuiltModel {
  ir::LayerList layers;
  ModelInfo info;
};

class Family {
 public:
  virtual ~Family() = default;
  virtual std::string name() const = 0;
  // True when the tensor names look like this family in one of its namings.
  virtual bool matches(const WeightSource& weights) const = 0;
  // Builds from the checkpoint; `preset` (may be empty) must then agree with what the file holds.
  virtual BuiltModel build(const WeightSource& weights, const std::string& preset) const = 0;
  virtual std::vector<PresetInfo> presets() const = 0;
  // Whether a tensor this family's checkpoints hold may go unread: buffers PyTorch saves but the
  // builder recomputes or has no use for (BatchNorm's num_batches_tracked here; families add theirs).
  virtual bool ignorable(const std::string& name) const;
  // Builds a preset from its own configuration (nothing is inferred from `weights`), asking for every
  // tensor, in the family's timm naming, with its shape and Init: given a RandomWeightSource, the
  // builder's requests are the preset's random weights (benchmarks, tests, `--model NAME`).
  virtual BuiltModel build_preset(const WeightSource& weights, const std::string& preset) const = 0;
};

const std::vector<const Family*>& families();

// Builds a checkpoint strictly, as PyTorch's load_state_dict(strict=True) loads one: every tensor
// must be consumed by the builder or be ignorable for the family, else InputError naming the family
// and naming the builder matched, the count and the first unused tensors (a near relative's
// checkpoint, such as ConvNeXt V2's for V1, fails here rather than running without its extra layers).
BuiltModel build_strict(const Family& family, const WeightSource& weights, const std::string& preset);

// The family whose checkpoint this is; throws InputError listing what was found otherwise.
const Family& detect_family(const WeightSource& weights);
// The family that owns a preset name; throws InputError listing the presets otherwise.
const Family& family_of_preset(const std::string& preset);

// A preset with seeded random weights: its family's build_preset on a RandomWeightSource(seed).
BuiltModel random_preset(const std::string& preset, uint32_t seed);
// The tensors random_preset(preset, seed) made, as a tensor source named "preset NAME" (tests edit
// them into broken checkpoints).
WeightSource preset_weights(const std::string& preset, uint32_t seed);

// Labels: from the checkpoint's vkvision.labels metadata, ImageNet-1k names for 1000 classes, else
// "class N".
std::vector<std::string> default_labels(const WeightSource& weights, uint32_t num_classes);
// Preprocessing: the checkpoint's vkvision.* metadata where present, else the family's defaults.
// The PyTorch test accuracy the training script recorded in the file (vkvision.pytorch_test_accuracy), or -1.
double recorded_accuracy(const WeightSource& weights);
Preprocessing preprocessing_from_metadata(const WeightSource& weights, Preprocessing defaults);

// What every builder records about the model it built: its own description, with the labels,
// preprocessing (the file's metadata over the family's defaults) and recorded accuracy the checkpoint
// carries.
ModelInfo model_info(const WeightSource& weights, std::string family, std::string variant, std::string naming,
                     std::string config, int64_t classes, const Preprocessing& defaults);

}  // namespace vkvision::models
