// What a loaded model is: family, variant, classes, labels and the preprocessing it expects. Plain
// values: copy and read them from any thread.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vkvision {

struct Preprocessing {
  uint32_t input_size = 224;
  float crop_pct = 0.875f;
  std::string interpolation = "bicubic";  // "bicubic" or "bilinear"
  uint32_t channels = 3;
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
};

struct ModelInfo {
  std::string family;   // "convnext"
  std::string variant;  // preset name when the configuration matches one, else "custom"
  std::string naming;   // "official", "timm" or "torchvision": the tensor names read (presets: the family's)
  std::string origin;   // file path, or "preset NAME"
  std::string config;   // human-readable configuration, e.g. "depths 3,3,9,3 dims 96,192,384,768"
  uint32_t num_classes = 0;
  std::vector<std::string> labels;    // num_classes names
  double pytorch_test_accuracy = -1;  // percent, from vkvision.pytorch_test_accuracy metadata; -1 if absent
  Preprocessing preprocessing;
};

struct PresetInfo {
  std::string name;
  std::string family;
  std::string description;
};

// Every family and preset vkvision can build (what Model::preset and ModelOptions::preset take).
// Throws nothing but std::bad_alloc; thread-safe.
std::vector<PresetInfo> list_presets();

}  // namespace vkvision
