// MLP-Mixer, gMixer, ResMLP and gMLP against PyTorch: fixtures made by tools/make_mlp_fixtures.py (our
// re-expressions of timm's mlp_mixer.py and of deit's resmlp_models.py, 49 and 25 tokens, channel
// counts 18 to 30) through the real checkpoint loaders; the family each is taken for; the fused list
// against the unfused one; and a Mixer whose token MLP does not fit its tokens, refused.
#include <filesystem>

#include "io/npy.h"
#include "models/pytorch_logits.h"
#include "support/model_test.h"
#include "support/paths.h"
#include "support/safetensors_writer.h"
#include "support/test_directory.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

std::filesystem::path fixture(const std::string& name) { return testing::fixtures_dir() / "mlp" / name; }

struct MlpFixture {
  const char *weights, *input, *family, *naming;
};

// Every fixture: file, input, the family it must be taken for, its naming; logits <stem>_logits.npy.
const MlpFixture kFixtures[] = {
    {"mixer_timm.safetensors", "input28.npy", "mlp_mixer", "timm"},
    {"mixer25_timm.safetensors", "input20.npy", "mlp_mixer", "timm"},
    {"gmixer_timm.safetensors", "input28.npy", "gmixer", "timm"},
    {"resmlp_timm.safetensors", "input28.npy", "resmlp", "timm"},
    {"resmlp_official.pth", "input28.npy", "resmlp", "official"},
    {"gmlp_timm.safetensors", "input28.npy", "gmlp", "timm"},
};

std::string logits_file(const std::string& weights) {
  return weights.substr(0, weights.find('.')) + "_logits.npy";
}

class MlpMixerTest : public testing::ModelTest {
 protected:
  void expect_pytorch_logits(const MlpFixture& f, KernelFamily kernels = KernelFamily::Auto,
                             Precision precision = Precision::Fp32, bool optimize = true) {
    SCOPED_TRACE(f.weights);
    const Model model = Model::load(fixture(f.weights), {.optimize = optimize});
    EXPECT_EQ(model.info().family, f.family);
    EXPECT_EQ(model.info().naming, f.naming);
    const io::NpyArray input = io::read_npy(fixture(f.input));
    const io::NpyArray expected = io::read_npy(fixture(logits_file(f.weights)));
    EXPECT_EQ(model.info().preprocessing.input_size, uint32_t(input.shape[2]));
    // The fp32 bound as ConvNeXt's (test_convnext.cpp): fp32 on both sides in different summation
    // orders, over 2 blocks of sums of at most 4C = 120 channels or 49 tokens, logits O(1):
    // differences near 1e-6, and 2e-4 + 2e-4 |logit| still catches a wrong half of a gate, epsilon
    // or activation (> 1e-2).
    testing::expect_pytorch_logits(runtime(), model, input, expected, kernels, precision);
  }
};

TEST_F(MlpMixerTest, EveryFixtureMatchesPyTorchOnBothKernelFamilies) {
  for (auto kernels : runnable_kernel_families()) {
    SCOPED_TRACE(kernels == KernelFamily::SharedTiled ? "shared-memory tiled" : "register-blocked");
    for (const MlpFixture& f : kFixtures) expect_pytorch_logits(f, kernels);
  }
}

TEST_F(MlpMixerTest, UnoptimisedListsMatchPyTorch) {
  for (const MlpFixture& f : kFixtures) expect_pytorch_logits(f, KernelFamily::Auto, Precision::Fp32, false);
}

TEST_F(MlpMixerTest, HalfWeightsMatchPyTorchWithinTheFp16Budget) {
  if (const std::string reason = half_weights_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  for (const MlpFixture& f : kFixtures) expect_pytorch_logits(f, KernelFamily::Auto, Precision::Fp16);
}

// The passes leave one GEMM per token or channel linear (gated halves: one each), with GELU, ResMLP's
// Affines and layer scales and every residual inside them.
TEST_F(MlpMixerTest, ResMlpBlockIsThreeDispatchesAfterFolding) {
  const Model model = Model::load(fixture("resmlp_timm.safetensors"));
  const Model plain = Model::load(fixture("resmlp_timm.safetensors"), {.optimize = false});
  Session fused(runtime(), model, {.batch = 1}), unfused(runtime(), plain, {.batch = 1});
  // stem; per block: token linear (+affine, layer scale, residual), fc1+GELU (+affine), fc2 (+layer
  // scale, residual); the head (final Affine folded into it, through the pool), and the pool.
  EXPECT_EQ(fused.dispatch_count(), 1u + 2 * 3 + 2);
  EXPECT_GT(unfused.dispatch_count(), fused.dispatch_count());
}

TEST_F(MlpMixerTest, PresetsRunAtTheirOwnInputSize) {
  const Model model = Model::preset("mixer_s32_224");
  EXPECT_EQ(model.info().family, "mlp_mixer");
  EXPECT_EQ(model.info().preprocessing.input_size, 224u);
  EXPECT_EQ(model.info().preprocessing.mean, (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(Model::preset("resmlp_12_224").info().preprocessing.mean,
            (std::vector<float>{0.485f, 0.456f, 0.406f}));
  EXPECT_EQ(Model::preset("resmlp_big_24_224").info().config.find("tokens 784") != std::string::npos, true);
  Session session(runtime(), model, {.batch = 1});
  const std::vector<float> logits = session.run(std::vector<float>(3 * 224 * 224, 0.1f));
  ASSERT_EQ(logits.size(), 1000u);
  for (float value : logits) ASSERT_TRUE(std::isfinite(value));
}

TEST_F(MlpMixerTest, AnotherInputSizeIsRefusedNamingTheTokenLayer) {
  const Model model = Model::load(fixture("mixer_timm.safetensors"));
  try {
    Session session(runtime(), model, {.batch = 1, .input_size = 32});
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("mlp_tokens.fc1"), std::string::npos) << error.what();
  }
}

TEST_F(MlpMixerTest, MixerWithATokenMlpOfTheWrongLengthIsRefused) {
  const testing::TestDirectory dir("mlp_mixer");
  std::filesystem::create_directories(dir.path());
  testing::TensorMap tensors = testing::read_tensors(fixture("mixer_timm.safetensors"));
  tensors["blocks.1.mlp_tokens.fc1.weight"] =
      ir::HostTensor::from({11, 48}, std::vector<float>(11 * 48, 0.1f));
  const auto path = dir.path() / "wrong_tokens.safetensors";
  testing::write_safetensors(path, tensors);
  try {
    Model::load(path);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 (path.string() + ": tensor 'blocks.1.mlp_tokens.fc1.weight' has shape [11,48], "
                                  "expected [11,49]")
                     .c_str());
  }
}

// gMLP's fc1 split in halves: an odd width would leave a row of the checkpoint unread.
TEST_F(MlpMixerTest, GatedMlpWithAnOddHiddenWidthIsRefused) {
  const testing::TestDirectory dir("mlp_mixer_odd");
  std::filesystem::create_directories(dir.path());
  testing::TensorMap tensors = testing::read_tensors(fixture("gmlp_timm.safetensors"));
  tensors["blocks.0.mlp_channels.fc1.weight"] =
      ir::HostTensor::from({107, 18}, std::vector<float>(107 * 18, 0.1f));
  const auto path = dir.path() / "odd.safetensors";
  testing::write_safetensors(path, tensors);
  try {
    Model::load(path);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 (path.string() + ": tensor 'blocks.0.mlp_channels.fc1.weight' has 107 outputs, "
                                  "which a gated MLP cannot split in halves")
                     .c_str());
  }
}

}  // namespace
}  // namespace vkvision
