// Presets are described once, by their builders: the random weights are the builder's own requests
// (models::RandomWeightSource), and the same tensors read back as a checkpoint build the same model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "ir/layer_list.h"
#include "models/family.h"

namespace vkvision {
namespace {

class PresetTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PresetTest, ItsTensorsReadAsACheckpointBuildTheSameModel) {
  const std::string name = GetParam();
  const models::BuiltModel preset = models::random_preset(name, 1);
  const models::WeightSource tensors = models::preset_weights(name, 1);
  const models::BuiltModel loaded = models::family_of_preset(name).build(tensors, name);
  EXPECT_EQ(loaded.info.variant, preset.info.variant);
  EXPECT_EQ(loaded.info.config, preset.info.config);
  EXPECT_EQ(loaded.info.naming, preset.info.naming);
  const uint32_t size = preset.info.preprocessing.input_size;
  EXPECT_EQ(ir::describe(loaded.layers, 1, size, size), ir::describe(preset.layers, 1, size, size));
  // Every value a builder asked for is finite.
  for (const std::string& tensor : tensors.names()) {
    const ir::HostTensor t = tensors.get(tensor);
    for (int64_t i = 0; i < t.numel(); ++i) ASSERT_TRUE(std::isfinite(t.values()[i])) << tensor;
  }
}

TEST_P(PresetTest, WeightsDependOnTheSeedOnly) {
  const std::string name = GetParam();
  const models::WeightSource a = models::preset_weights(name, 1), b = models::preset_weights(name, 1);
  const models::WeightSource other = models::preset_weights(name, 2);
  ASSERT_EQ(a.names(), b.names());
  size_t differing = 0, random = 0;
  for (const std::string& tensor : a.names()) {
    const ir::HostTensor x = a.get(tensor), y = b.get(tensor), z = other.get(tensor);
    ASSERT_EQ(x.shape, y.shape) << tensor;
    EXPECT_EQ(std::memcmp(x.values(), y.values(), sizeof(float) * x.numel()), 0) << tensor;
    bool constant = true;
    for (int64_t i = 1; i < x.numel() && constant; ++i) constant = x.values()[i] == x.values()[0];
    // Swin v2's coordinate table is computed from the window, not drawn.
    if (constant || tensor.ends_with("relative_coords_table")) continue;
    ++random;
    differing += std::memcmp(x.values(), z.values(), sizeof(float) * x.numel()) != 0;
  }
  EXPECT_GT(random, 0u);
  EXPECT_EQ(differing, random);
}

// BatchNorm variances the folds divide by stay positive; norms start at one.
TEST(PresetWeightsTest, NormalisationsAreHealthy) {
  const models::WeightSource repvgg = models::preset_weights("repvgg_a0", 1);
  for (const std::string& tensor : repvgg.names())
    if (tensor.ends_with("running_var")) {
      const ir::HostTensor t = repvgg.get(tensor);
      for (int64_t i = 0; i < t.numel(); ++i) ASSERT_GE(t.values()[i], 0.5f) << tensor;
    }
  const ir::HostTensor norm = models::preset_weights("convnext_atto", 1).get("stages.1.blocks.0.norm.weight");
  for (int64_t i = 0; i < norm.numel(); ++i) ASSERT_EQ(norm.values()[i], 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Small, PresetTest,
                         ::testing::Values("convnext_atto", "swin_tiny_patch4_window7_224",
                                           "swinv2_tiny_window8_256", "swin_mlp_tiny_c24_patch4_window8_256",
                                           "repvgg_a0", "repvgg_d2se", "inception_next_atto",
                                           "repmlpnet_t224", "convnextv2_atto", "mixer_s32_224",
                                           "gmixer_12_224", "resmlp_12_224", "gmlp_ti16_224"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace vkvision
