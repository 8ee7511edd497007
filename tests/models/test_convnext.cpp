// ConvNeXt against PyTorch: fixtures made by tools/make_convnext_fixtures.py (torchvision's own
// model, and our re-expressions of the official and timm definitions) are loaded through the real
// checkpoint loaders and must give PyTorch's logits.
#include <cstdlib>
#include <filesystem>

#include "io/npy.h"
#include "models/convnext.h"
#include "models/pytorch_logits.h"
#include "support/model_test.h"
#include "support/paths.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

std::filesystem::path fixture(const std::string& name) { return testing::fixtures_dir() / "convnext" / name; }

class ConvNextTest : public testing::ModelTest {
 protected:
  void expect_pytorch_logits(const std::string& weights, const std::string& logits_file,
                             const std::string& naming, KernelFamily kernels = KernelFamily::Auto,
                             Precision precision = Precision::Fp32) {
    const Model model = Model::load(fixture(weights));
    EXPECT_EQ(model.info().family, "convnext");
    EXPECT_EQ(model.info().naming, naming);
    // The fp32 bound (testing::expect_pytorch_logits): both sides compute in fp32 with different
    // summation orders; over ~10 layers, each with sums of up to 4*C terms and LayerNorm
    // renormalising, the difference stays near 1e-5 of the logit scale (O(1..10)). 2e-4 absolute +
    // 2e-4 relative leaves a 10x margin and still catches any real error (a wrong epsilon, GELU form
    // or channel order moves logits by >1e-2). fp16: half_weights_tolerance.h.
    testing::expect_pytorch_logits(runtime(), model, io::read_npy(fixture("input.npy")),
                                   io::read_npy(fixture(logits_file)), kernels, precision);
  }
};

TEST_F(ConvNextTest, TorchvisionCheckpointMatchesPyTorch) {
  expect_pytorch_logits("torchvision.pth", "torchvision_logits.npy", "torchvision");
}

// Both GEMM families run whole networks on every device, whichever the plan would pick here.
TEST_F(ConvNextTest, BothKernelFamiliesMatchPyTorch) {
  for (auto kernels : runnable_kernel_families()) {
    SCOPED_TRACE(kernels == KernelFamily::SharedTiled ? "shared-memory tiled" : "register-blocked");
    expect_pytorch_logits("timm.safetensors", "timm_logits.npy", "timm", kernels);
  }
}

TEST_F(ConvNextTest, HalfWeightsMatchPyTorchWithinTheFp16BudgetOnBothKernelFamilies) {
  if (const std::string reason = half_weights_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  for (auto kernels : runnable_kernel_families()) {
    SCOPED_TRACE(kernels == KernelFamily::SharedTiled ? "shared-memory tiled" : "register-blocked");
    expect_pytorch_logits("timm.safetensors", "timm_logits.npy", "timm", kernels, Precision::Fp16);
  }
}

TEST_F(ConvNextTest, HalfWeightsHalveTheWeightMemory) {
  // Biases and LayerNorm affines stay fp32; in atto they are under 1% of the parameters.
  if (const std::string reason = half_weights_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  const Model model = Model::preset("convnext_atto");
  Session full(runtime(), model, {.batch = 1, .input_size = 64});
  Session half(runtime(), model, {.batch = 1, .input_size = 64, .precision = Precision::Fp16});
  EXPECT_LT(double(half.weight_bytes()), 0.51 * double(full.weight_bytes()));
  EXPECT_EQ(half.dispatch_count(), full.dispatch_count());
}

TEST_F(ConvNextTest, OfficialCheckpointWrappedInModelDictMatchesPyTorch) {
  expect_pytorch_logits("official.pth", "official_logits.npy", "official");
}

TEST_F(ConvNextTest, TimmSafetensorsMatchesPyTorch) {
  expect_pytorch_logits("timm.safetensors", "timm_logits.npy", "timm");
}

TEST_F(ConvNextTest, TimmConvMlpFormMatchesPyTorch) {
  expect_pytorch_logits("timm_convmlp.safetensors", "timm_convmlp_logits.npy", "timm");
}

TEST_F(ConvNextTest, UnoptimisedListGivesTheSameLogits) {
  const Model optimized = Model::load(fixture("timm.safetensors"));
  const Model plain = Model::load(fixture("timm.safetensors"), {.optimize = false});
  const io::NpyArray input = io::read_npy(fixture("input.npy"));
  SessionOptions options{.batch = static_cast<uint32_t>(input.shape[0]),
                         .input_size = static_cast<uint32_t>(input.shape[2])};
  Session fast(runtime(), optimized, options), slow(runtime(), plain, options);
  EXPECT_LT(fast.dispatch_count(), slow.dispatch_count());
  EXPECT_LE(testing::worst_tolerance_ratio(fast.run(input.data), slow.run(input.data), 2e-4, 2e-4), 1.0);
}

TEST_F(ConvNextTest, ConfigurationIsInferredFromTensorShapes) {
  const Model model = Model::load(fixture("timm.safetensors"));
  EXPECT_EQ(model.info().config, "depths 1,2,3,1 dims 12,20,36,44 patch 4 in_chans 3 classes 10");
  EXPECT_EQ(model.info().num_classes, 10u);
  EXPECT_EQ(model.info().variant, "custom");
}

TEST_F(ConvNextTest, BlockHasThreeDispatchesAfterFusion) {
  const Model model = Model::preset("convnext_atto");
  auto dispatches = [&](KernelFamily kernels) {
    return Session(runtime(), model, {.batch = 1, .input_size = 64, .kernels = kernels}).dispatch_count();
  };
  // stem conv + LN, 3 downsamples x (LN + conv), 12 blocks x 3, then pool, LN, head.
  // Register family: dw+LN (one kernel where the device has RGBA32F texel buffers), fc1+GELU,
  // fc2+gamma+residual.
  const size_t per_block = device().texel_buffer_rgba32f ? 3 : 4;
  EXPECT_EQ(dispatches(KernelFamily::RegisterBlocked), 2u + 3 * 2 + 12 * per_block + 3);
  // GPU-class family: dw, LN+fc1+GELU (the norm folded into the GEMM), fc2+gamma+residual; the head's
  // LN folds into the head GEMM.
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  EXPECT_EQ(dispatches(KernelFamily::SharedTiled), 2u + 3 * 2 + 12 * 3 + 2);
}

TEST_F(ConvNextTest, PresetThatDisagreesWithTheFileIsAnInputError) {
  try {
    Model::load(fixture("timm.safetensors"), {.preset = "convnext_tiny"});
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("timm.safetensors"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("convnext_tiny"), std::string::npos) << error.what();
  }
}

TEST_F(ConvNextTest, MissingTensorIsNamedInTheError) {
  const auto& family = models::convnext_family();
  auto source = models::preset_weights("convnext_atto", 1);
  std::map<std::string, ir::HostTensor> tensors;
  for (const auto& name : source.names())
    if (name != "stages.2.blocks.3.mlp.fc2.bias") tensors[name] = source.get(name);
  auto broken = models::WeightSource::from_tensors(std::move(tensors), "broken.safetensors");
  try {
    family.build(broken, "");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "broken.safetensors: missing tensor 'stages.2.blocks.3.mlp.fc2.bias'");
  }
}

TEST_F(ConvNextTest, WrongTensorShapeIsNamedInTheError) {
  const auto& family = models::convnext_family();
  auto source = models::preset_weights("convnext_atto", 1);
  std::map<std::string, ir::HostTensor> tensors;
  for (const auto& name : source.names()) tensors[name] = source.get(name);
  tensors["stages.1.blocks.0.norm.weight"] = ir::HostTensor::from({81}, std::vector<float>(81, 1.0f));
  auto broken = models::WeightSource::from_tensors(std::move(tensors), "broken.safetensors");
  try {
    family.build(broken, "");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 "broken.safetensors: tensor 'stages.1.blocks.0.norm.weight' has shape [81], expected [80]");
  }
}

}  // namespace
}  // namespace vkvision
