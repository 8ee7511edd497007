// ConvNeXt V2 against PyTorch: fixtures made by tools/make_convnextv2_fixtures.py (our re-expressions
// of facebookresearch/ConvNeXt-V2 and of timm's Linear and conv-MLP forms) through the real
// checkpoint loaders; GRN's fused form (fc2's input scale) against the unfused list; and strict
// loading: a V2 checkpoint is never run as V1, a V1 one with a stray tensor is refused.
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

std::filesystem::path fixture(const std::string& name) {
  return testing::fixtures_dir() / "convnextv2" / name;
}

class ConvNextV2Test : public testing::ModelTest {
 protected:
  void expect_pytorch_logits(const std::string& weights, const std::string& logits_file,
                             const std::string& naming, KernelFamily kernels = KernelFamily::Auto,
                             Precision precision = Precision::Fp32) {
    const Model model = Model::load(fixture(weights));
    EXPECT_EQ(model.info().family, "convnext_v2");
    EXPECT_EQ(model.info().naming, naming);
    // The fp32 bound as V1's (test_convnext.cpp). GRN adds one sum over H*W per channel and one over
    // 4C channels per image, each of at most a few thousand terms, whose relative rounding error
    // (~n * 6e-8 < 1e-4 at worst, ~sqrt(n) * 6e-8 in practice) enters the scale 1 + gamma * N with
    // |gamma| ~ 0.5: well inside 2e-4.
    testing::expect_pytorch_logits(runtime(), model, io::read_npy(fixture("input.npy")),
                                   io::read_npy(fixture(logits_file)), kernels, precision);
  }
};

TEST_F(ConvNextV2Test, OfficialCheckpointMatchesPyTorch) {
  expect_pytorch_logits("official.pth", "official_logits.npy", "official");
}

TEST_F(ConvNextV2Test, TimmSafetensorsMatchesPyTorch) {
  expect_pytorch_logits("timm.safetensors", "timm_logits.npy", "timm");
}

TEST_F(ConvNextV2Test, TimmConvMlpFormMatchesPyTorch) {
  expect_pytorch_logits("timm_convmlp.safetensors", "timm_convmlp_logits.npy", "timm");
}

TEST_F(ConvNextV2Test, BothKernelFamiliesMatchPyTorch) {
  for (auto kernels : runnable_kernel_families()) {
    SCOPED_TRACE(kernels == KernelFamily::SharedTiled ? "shared-memory tiled" : "register-blocked");
    expect_pytorch_logits("official.pth", "official_logits.npy", "official", kernels);
    expect_pytorch_logits("timm_convmlp.safetensors", "timm_convmlp_logits.npy", "timm", kernels);
  }
}

TEST_F(ConvNextV2Test, HalfWeightsMatchPyTorchWithinTheFp16BudgetOnBothKernelFamilies) {
  if (const std::string reason = half_weights_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  for (auto kernels : runnable_kernel_families()) {
    SCOPED_TRACE(kernels == KernelFamily::SharedTiled ? "shared-memory tiled" : "register-blocked");
    expect_pytorch_logits("timm.safetensors", "timm_logits.npy", "timm", kernels, Precision::Fp16);
  }
}

// The fused form (fc2 scales its input per image; beta in its bias) against the builder's list run
// as it stands (spatial_l2_norm, grn_scale, channel_gate, channel_affine, fc2), on both families.
TEST_F(ConvNextV2Test, FusedGrnMatchesTheUnfusedList) {
  const Model optimized = Model::load(fixture("official.pth"));
  const Model plain = Model::load(fixture("official.pth"), {.optimize = false});
  const io::NpyArray input = io::read_npy(fixture("input.npy"));
  for (auto kernels : runnable_kernel_families()) {
    SessionOptions options{.batch = static_cast<uint32_t>(input.shape[0]),
                           .input_size = static_cast<uint32_t>(input.shape[2]),
                           .kernels = kernels};
    Session fast(runtime(), optimized, options), slow(runtime(), plain, options);
    EXPECT_LT(fast.dispatch_count(), slow.dispatch_count());
    EXPECT_LE(testing::worst_tolerance_ratio(fast.run(input.data), slow.run(input.data), 2e-4, 2e-4), 1.0);
  }
}

TEST_F(ConvNextV2Test, GrnCostsTwoSmallDispatchesPerBlock) {
  const Model model = Model::preset("convnextv2_atto");
  auto dispatches = [&](KernelFamily kernels) {
    return Session(runtime(), model, {.batch = 1, .input_size = 64, .kernels = kernels}).dispatch_count();
  };
  // As V1's count (test_convnext.cpp BlockHasThreeDispatchesAfterFusion) plus, per block, the
  // channel norms and the GRN scale; applying GRN costs nothing (fc2's input scale and bias).
  const size_t per_block = (device().texel_buffer_rgba32f ? 3 : 4) + 2;
  EXPECT_EQ(dispatches(KernelFamily::RegisterBlocked), 2u + 3 * 2 + 12 * per_block + 3);
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  EXPECT_EQ(dispatches(KernelFamily::SharedTiled), 2u + 3 * 2 + 12 * (3 + 2) + 2);
}

TEST_F(ConvNextV2Test, ConfigurationIsInferredFromTensorShapes) {
  const Model model = Model::load(fixture("timm.safetensors"));
  EXPECT_EQ(model.info().config, "depths 1,1,2,1 dims 18,26,34,42 patch 4 in_chans 3 classes 10 grn");
  EXPECT_EQ(model.info().variant, "custom");
  const Model preset = Model::preset("convnextv2_tiny_384");
  EXPECT_EQ(preset.info().family, "convnext_v2");
  EXPECT_EQ(preset.info().preprocessing.input_size, 384u);
  EXPECT_EQ(preset.info().preprocessing.crop_pct, 1.0f);
}

// Strict loading. Each broken file is refused with one line naming the file and the problem.
std::string load_error(const std::filesystem::path& path) {
  try {
    Model::load(path);
  } catch (const InputError& error) {
    return error.what();
  }
  return "(loaded)";
}

TEST_F(ConvNextV2Test, V2CheckpointWithAGrnTensorMissingIsRefused) {
  const testing::TestDirectory dir("convnextv2");
  std::filesystem::create_directories(dir.path());
  testing::TensorMap tensors = testing::read_tensors(fixture("timm.safetensors"));
  ASSERT_EQ(tensors.erase("stages.2.blocks.1.mlp.grn.bias"), 1u);
  const auto path = dir.path() / "missing_grn.safetensors";
  testing::write_safetensors(path, tensors);
  EXPECT_EQ(load_error(path), path.string() + ": missing tensor 'stages.2.blocks.1.mlp.grn.bias'");
}

TEST_F(ConvNextV2Test, V1CheckpointWithOneExtraTensorIsRefused) {
  const testing::TestDirectory dir("convnextv2");
  std::filesystem::create_directories(dir.path());
  testing::TensorMap tensors =
      testing::read_tensors(testing::fixtures_dir() / "convnext" / "timm.safetensors");
  tensors["stages.1.blocks.0.mlp.extra.weight"] = ir::HostTensor::from({3}, {1.0f, 2.0f, 3.0f});
  const auto path = dir.path() / "extra.safetensors";
  testing::write_safetensors(path, tensors);
  const std::string error = load_error(path);
  EXPECT_EQ(error, path.string() +
                       ": matched convnext (timm naming) but 1 of its tensors have no place in that model: "
                       "stages.1.blocks.0.mlp.extra.weight (a different model, or a variant vkvision "
                       "does not run)");
}

// ConvNeXt V1's loader, which knows no GRN, would once run a V2 file without it (logits off by 2.6
// to 4.3); with GRN's tensors left unconsumed that is now refused. Here V2 loads as V2, and a V2 file
// whose GRN the naming cannot place (renamed out of its block) is refused rather than run as V1.
TEST_F(ConvNextV2Test, V2TensorsOutsideTheirPlaceAreNeverRunAsV1) {
  const testing::TestDirectory dir("convnextv2");
  std::filesystem::create_directories(dir.path());
  testing::TensorMap tensors = testing::read_tensors(fixture("timm.safetensors"));
  testing::TensorMap renamed;
  for (auto& [name, tensor] : tensors) {
    std::string moved = name;
    if (const size_t at = moved.find(".mlp.grn."); at != std::string::npos) moved.replace(at, 9, ".grn_v2.");
    renamed[moved] = tensor;
  }
  const auto path = dir.path() / "v2_as_v1.safetensors";
  testing::write_safetensors(path, renamed);
  const std::string error = load_error(path);
  EXPECT_NE(error.find("matched convnext (timm naming) but 10 of its tensors have no place"),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace vkvision
