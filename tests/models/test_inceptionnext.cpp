// InceptionNeXt against PyTorch: fixtures made by tools/make_inceptionnext_fixtures.py (our
// re-expression of sail-sg/inceptionnext, randomised BatchNorm statistics) are loaded through the
// real checkpoint loaders and must give PyTorch's logits; malformed checkpoints fail in one line.
#include <filesystem>
#include <functional>
#include <map>

#include "io/npy.h"
#include "models/half_weights_tolerance.h"
#include "models/inceptionnext.h"
#include "support/model_test.h"
#include "support/paths.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return testing::fixtures_dir() / "inceptionnext" / name;
}

class InceptionNextTest : public testing::ModelTest {
 protected:
  std::vector<float> run(const Model& model, KernelFamily kernels = KernelFamily::Auto,
                         Precision precision = Precision::Fp32) {
    const io::NpyArray input = io::read_npy(fixture("input.npy"));
    Session session(runtime(), model,
                    {.batch = static_cast<uint32_t>(input.shape[0]),
                     .input_size = static_cast<uint32_t>(input.shape[2]),
                     .kernels = kernels,
                     .precision = precision});
    return session.run(input.data);
  }

  void expect_pytorch_logits(const std::string& weights, const std::string& logits) {
    const Model model = Model::load(fixture(weights));
    EXPECT_EQ(model.info().family, "inceptionnext");
    EXPECT_EQ(model.info().naming, "official");
    const io::NpyArray expected = io::read_npy(fixture(logits));
    const std::vector<float> actual = run(model);
    ASSERT_EQ(actual.size(), expected.data.size());
    // fp32 on both sides with different summation orders, and BatchNorms folded into the weights on
    // ours (a per-channel scale applied to W instead of to W x: relative ~1e-7 per product). Sums of
    // up to 4C terms over ~12 layers, logits O(1..5): observed differences are <= 5e-6. 2e-4
    // absolute + 2e-4 relative, as for ConvNeXt, leaves a wide margin and still catches a real
    // error (swapping the two band branches moves these logits by 1.9).
    EXPECT_LE(testing::worst_tolerance_ratio(actual, expected.data, 2e-4, 2e-4), 1.0);
  }

  // The atto preset's tensors with `edit` applied, as if read from broken.safetensors.
  static models::WeightSource edited_atto(
      const std::function<void(std::map<std::string, ir::HostTensor>&)>& edit) {
    const auto source = models::preset_weights("inception_next_atto", 1);
    std::map<std::string, ir::HostTensor> tensors;
    for (const auto& name : source.names()) tensors[name] = source.get(name);
    edit(tensors);
    return models::WeightSource::from_tensors(std::move(tensors), "broken.safetensors");
  }

  static std::string build_error(const models::WeightSource& source) {
    try {
      models::inceptionnext_family().build(source, "");
    } catch (const InputError& error) {
      return error.what();
    }
    return "no error";
  }
};

TEST_F(InceptionNextTest, OfficialBareStateDictMatchesPyTorch) {
  expect_pytorch_logits("official.pth", "official_logits.npy");
}

TEST_F(InceptionNextTest, TimmSafetensorsWithAttoMixerMatchesPyTorch) {
  expect_pytorch_logits("timm_atto_form.safetensors", "timm_atto_form_logits.npy");
}

TEST_F(InceptionNextTest, HalfWeightsMatchPyTorchWithinTheFp16BudgetOnBothKernelFamilies) {
  if (const std::string reason = half_weights_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  const Model model = Model::load(fixture("official.pth"));
  const io::NpyArray expected = io::read_npy(fixture("official_logits.npy"));
  for (auto kernels : runnable_kernel_families()) {
    SCOPED_TRACE(kernels == KernelFamily::SharedTiled ? "shared-memory tiled" : "register-blocked");
    const double tolerance = testing::kHalfWeightsLogitTolerance;  // derived in half_weights_tolerance.h
    EXPECT_LE(testing::worst_tolerance_ratio(run(model, kernels, Precision::Fp16), expected.data, tolerance,
                                             tolerance),
              1.0);
  }
}

TEST_F(InceptionNextTest, UnoptimisedListGivesTheSameLogits) {
  const Model optimized = Model::load(fixture("official.pth"));
  const Model plain = Model::load(fixture("official.pth"), {.optimize = false});
  EXPECT_LE(testing::worst_tolerance_ratio(run(optimized), run(plain), 2e-4, 2e-4), 1.0);
}

TEST_F(InceptionNextTest, ConfigurationIsInferredFromTensorShapes) {
  const Model official = Model::load(fixture("official.pth"));
  EXPECT_EQ(
      official.info().config,
      "depths 1,1,2,1 dims 24,32,48,56 branches 3,4,6,7 kernels 3/11 mlp 96,128,192,168 head 168 classes 10");
  EXPECT_EQ(official.info().variant, "custom");
  EXPECT_EQ(
      Model::load(fixture("timm_atto_form.safetensors")).info().config,
      "depths 1,1,1,1 dims 16,24,32,40 branches 4,6,8,10 kernels 3/9 mlp 64,96,128,120 head 120 classes 7");
}

TEST_F(InceptionNextTest, NoBatchNormReachesTheDeviceAndABlockIsThreeDispatches) {
  const Model model = Model::preset("inception_next_atto");
  EXPECT_EQ(model.info().variant, "inception_next_atto");
  const std::string layers = model.describe_layers(true, 1, 64);
  EXPECT_EQ(layers.find("batch_norm"), std::string::npos) << layers;
  EXPECT_EQ(layers.find("channel_affine"), std::string::npos) << layers;
  Session session(runtime(), model, {.batch = 1, .input_size = 64, .kernels = KernelFamily::RegisterBlocked});
  // stem conv (+BN), 3 downsample convs (BN folded forward), 12 blocks x (mixer, fc1+BN+GELU,
  // fc2+gamma+residual), head: pool, fc1+GELU, LayerNorm, fc2; with the GPU-class family the head's
  // LayerNorm folds into fc2.
  EXPECT_EQ(session.dispatch_count(), 1u + 3 + 12 * 3 + 4);
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  Session tiled(runtime(), model, {.batch = 1, .input_size = 64, .kernels = KernelFamily::SharedTiled});
  EXPECT_EQ(tiled.dispatch_count(), 1u + 3 + 12 * 3 + 3);
}

TEST_F(InceptionNextTest, PresetsListEveryVariantAndBase384TakesItsInputSize) {
  std::vector<std::string> names;
  for (const auto& preset : list_presets())
    if (preset.family == "inceptionnext") names.push_back(preset.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"inception_next_atto", "inception_next_tiny", "inception_next_small",
                                      "inception_next_base", "inception_next_base_384"}));
  const Model model = Model::preset("inception_next_base_384");
  EXPECT_EQ(model.info().preprocessing.input_size, 384u);
  EXPECT_EQ(model.info().preprocessing.crop_pct, 1.0f);
}

TEST_F(InceptionNextTest, PresetThatDisagreesWithTheFileIsAnInputError) {
  try {
    Model::load(fixture("official.pth"), {.preset = "inception_next_tiny"});
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("official.pth"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("inception_next_tiny"), std::string::npos) << error.what();
  }
}

TEST_F(InceptionNextTest, MissingBatchNormTensorIsNamed) {
  const auto source = edited_atto([](auto& t) { t.erase("stages.1.blocks.0.norm.running_var"); });
  EXPECT_EQ(build_error(source), "broken.safetensors: missing tensor 'stages.1.blocks.0.norm.running_var'");
}

TEST_F(InceptionNextTest, BranchKernelOfTheWrongShapeIsNamed) {
  const auto source = edited_atto([](auto& t) {
    t["stages.2.blocks.1.token_mixer.dwconv_w.weight"] =
        ir::HostTensor::from({40, 1, 1, 7}, std::vector<float>(280));
  });
  EXPECT_EQ(build_error(source),
            "broken.safetensors: tensor 'stages.2.blocks.1.token_mixer.dwconv_w.weight' has shape "
            "[40,1,1,7], expected [40,1,1,9]");
}

TEST_F(InceptionNextTest, BranchesThatDoNotFitTheWidthAreAnInputError) {
  // Stage 1 is 80 wide: three branches of 30 channels need 90.
  const auto source = edited_atto([](auto& t) {
    const std::string mixer = "stages.1.blocks.0.token_mixer.";
    t[mixer + "dwconv_hw.weight"] = ir::HostTensor::from({30, 1, 3, 3}, std::vector<float>(270));
  });
  EXPECT_EQ(
      build_error(source),
      "broken.safetensors: tensor 'stages.1.blocks.0.token_mixer.dwconv_hw.weight' has 30 channels: three "
      "branches of 30 do not fit the stage width 80");
}

TEST_F(InceptionNextTest, EvenMixerKernelIsAnInputError) {
  const auto source = edited_atto([](auto& t) {
    t["stages.0.blocks.0.token_mixer.dwconv_w.weight"] =
        ir::HostTensor::from({10, 1, 1, 8}, std::vector<float>(80));
  });
  EXPECT_NE(build_error(source).find("must be odd"), std::string::npos) << build_error(source);
}

}  // namespace
}  // namespace vkvision
