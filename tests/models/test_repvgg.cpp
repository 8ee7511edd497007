// RepVGG against PyTorch: fixtures from tools/make_repvgg_fixtures.py (our re-expression of the
// official repvgg.py, randomised BatchNorm statistics) in training form, deployed form and timm's
// naming, loaded through the real loaders; the converted network keeps one 3x3 conv per block.
#include <algorithm>
#include <filesystem>

#include "io/npy.h"
#include "models/repvgg.h"
#include "support/model_test.h"
#include "support/paths.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

std::filesystem::path fixture(const std::string& name) { return testing::fixtures_dir() / "repvgg" / name; }

class RepVggTest : public testing::ModelTest {
 protected:
  std::vector<float> run(const Model& model) {
    const io::NpyArray input = io::read_npy(fixture("input.npy"));
    Session session(runtime(), model,
                    {.batch = static_cast<uint32_t>(input.shape[0]),
                     .input_size = static_cast<uint32_t>(input.shape[2])});
    return session.run(input.data);
  }

  void expect_pytorch_logits(const std::string& weights, const std::string& naming,
                             const std::string& logits = "logits.npy") {
    const Model model = Model::load(fixture(weights));
    EXPECT_EQ(model.info().family, "repvgg");
    EXPECT_EQ(model.info().naming, naming);
    const io::NpyArray expected = io::read_npy(fixture(logits));
    // fp32 throughout; merging three BatchNorm-scaled branches into one kernel reorders the roundings
    // of 9 * C products per output (relative ~1e-6 each) over 9 layers of ReLU convs. 2e-4 absolute +
    // 2e-4 relative, as for ConvNeXt: a wrong fold, group or padding moves logits by 1e-2 or more.
    EXPECT_LE(testing::worst_tolerance_ratio(run(model), expected.data, 2e-4, 2e-4), 1.0);
  }
};

TEST_F(RepVggTest, TrainingCheckpointMatchesPyTorch) {
  expect_pytorch_logits("official_train.pth", "official");
}

TEST_F(RepVggTest, DeployedCheckpointMatchesPyTorch) {
  expect_pytorch_logits("official_deploy.pth", "official");
}

TEST_F(RepVggTest, TimmNamingMatchesPyTorch) { expect_pytorch_logits("timm_train.safetensors", "timm"); }

TEST_F(RepVggTest, SqueezeExcitationTrainingCheckpointMatchesPyTorch) {
  expect_pytorch_logits("official_se_train.pth", "official", "se_logits.npy");
}

TEST_F(RepVggTest, SqueezeExcitationDeployedCheckpointMatchesPyTorch) {
  expect_pytorch_logits("official_se_deploy.pth", "official", "se_logits.npy");
}

TEST_F(RepVggTest, SqueezeExcitationInTimmNamingMatchesPyTorch) {
  expect_pytorch_logits("timm_se_train.safetensors", "timm", "se_logits.npy");
}

TEST_F(RepVggTest, SqueezeExcitationBlocksKeepOnlyTheirGate) {
  const Model model = Model::load(fixture("official_se_train.pth"));
  EXPECT_EQ(model.info().config,
            "training-time blocks 1,2,3,2,1 widths 16,16,24,32,48 groups 4 se classes 10");
  Session session(runtime(), model, {.batch = 2, .input_size = 40});
  // Per block: the merged 3x3 conv, pool, down+ReLU, up+sigmoid, gate, ReLU; then pool and head.
  EXPECT_EQ(session.dispatch_count(), 9u * 6 + 2);
}

TEST_F(RepVggTest, ConfigurationIsInferredFromTensorShapes) {
  EXPECT_EQ(Model::load(fixture("official_train.pth")).info().config,
            "training-time blocks 1,2,3,2,1 widths 16,16,24,32,48 groups 4 classes 10");
  EXPECT_EQ(Model::load(fixture("official_deploy.pth")).info().config,
            "deployed blocks 1,2,3,2,1 widths 16,16,24,32,48 groups 4 classes 10");
}

TEST_F(RepVggTest, ConversionLeavesOneConvolutionPerBlock) {
  const Model trained = Model::load(fixture("official_train.pth"));
  const Model plain = Model::load(fixture("official_train.pth"), {.optimize = false});
  const io::NpyArray input = io::read_npy(fixture("input.npy"));
  SessionOptions options{.batch = 2, .input_size = 40};
  Session converted(runtime(), trained, options), unconverted(runtime(), plain, options);
  // 9 blocks, each one 3x3 conv with bias and ReLU; pool; head.
  EXPECT_EQ(converted.dispatch_count(), 9u + 2u);
  EXPECT_GT(unconverted.dispatch_count(), 4 * 9u);
  EXPECT_LE(
      testing::worst_tolerance_ratio(converted.run(input.data), unconverted.run(input.data), 2e-4, 2e-4),
      1.0);
}

TEST_F(RepVggTest, EveryPresetBuildsAndRuns) {
  for (const auto& preset : list_presets()) {
    // One of each depth pattern and grouping; the wider ones take seconds to generate and pack here.
    if (preset.name != "repvgg_a0" && preset.name != "repvgg_b0" && preset.name != "repvgg_b1g2" &&
        preset.name != "repvgg_b1g4")
      continue;
    const Model model = Model::preset(preset.name);
    EXPECT_EQ(model.info().variant, preset.name);
    Session session(runtime(), model, {.batch = 1, .input_size = 32});
    std::vector<float> input(3 * 32 * 32, 0.5f);
    const auto logits = session.run(input);
    EXPECT_EQ(logits.size(), 1000u);
    EXPECT_TRUE(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }))
        << preset.name;
  }
}

models::WeightSource without(const std::string& removed, const std::string& replaced = "",
                             ir::HostTensor replacement = {}) {
  const auto source = models::preset_weights("repvgg_a0", 3);
  std::map<std::string, ir::HostTensor> tensors;
  for (const auto& name : source.names())
    if (name != removed) tensors[name] = source.get(name);
  if (!replaced.empty()) tensors[replaced] = replacement;
  return models::WeightSource::from_tensors(std::move(tensors), "broken.pth");
}

std::string build_error(const models::WeightSource& source) {
  try {
    models::repvgg_family().build(source, "");
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST_F(RepVggTest, BranchMissingItsBatchNormIsNamed) {
  EXPECT_EQ(build_error(without("stage2.1.rbr_1x1.bn.running_var")),
            "broken.pth: missing tensor 'stage2.1.rbr_1x1.bn.running_var'");
}

TEST_F(RepVggTest, KernelThatDoesNotTakeTheInputChannelsIsNamed) {
  EXPECT_EQ(build_error(without("", "stage1.1.rbr_dense.conv.weight",
                                ir::HostTensor::from({48, 5, 3, 3}, std::vector<float>(48 * 5 * 9)))),
            "broken.pth: tensor 'stage1.1.rbr_dense.conv.weight' has shape [48,5,3,3], which does not take "
            "48 input "
            "channels");
}

TEST_F(RepVggTest, IdentityBranchOnAStridedBlockIsRejected) {
  EXPECT_EQ(build_error(without("", "stage2.0.rbr_identity.weight",
                                ir::HostTensor::from({96}, std::vector<float>(96)))),
            "broken.pth: block stage2.0 has an identity branch but changes shape");
}

}  // namespace
}  // namespace vkvision
