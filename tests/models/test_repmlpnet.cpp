// RepMLPNet against PyTorch: tools/make_repmlpnet_fixtures.py re-expresses the official
// repmlpnet.py (channels 16,24,32,40, partitions 4,2,2,1 on a 32x32 input: several patches per map
// and several channels per shareset in the first stages) with random weights and BatchNorm
// statistics, and saves it before and after its locality_injection(). Both files load through the
// real checkpoint loader and must give the logits of the training-time PyTorch model.
#include <filesystem>

#include "io/checkpoint.h"
#include "io/npy.h"
#include "models/repmlpnet.h"
#include "support/model_test.h"
#include "support/paths.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return testing::fixtures_dir() / "repmlpnet" / name;
}

class RepMlpNetTest : public testing::ModelTest {
 protected:
  static SessionOptions options_for(const io::NpyArray& input) {
    return {.batch = static_cast<uint32_t>(input.shape[0]),
            .input_size = static_cast<uint32_t>(input.shape[2])};
  }

  void expect_pytorch_logits(const std::string& weights, bool optimize = true) {
    const Model model = Model::load(fixture(weights), {.optimize = optimize});
    EXPECT_EQ(model.info().family, "repmlpnet");
    const io::NpyArray input = io::read_npy(fixture("input.npy"));
    const io::NpyArray expected = io::read_npy(fixture("logits.npy"));
    Session session(runtime(), model, options_for(input));
    const std::vector<float> logits = session.run(input.data);
    ASSERT_EQ(logits.size(), expected.data.size());
    // fp32 on both sides with different summation orders (and, after conversion, BatchNorms folded
    // into weights and the conv branches summed into the FC's kernel). Five units of sums over at most
    // 4C = 160 terms, logits O(1..6): differences stay near 1e-5; 2e-4 absolute + 2e-4 relative
    // leaves a 10x margin and still catches a real error (a wrong patch order, shareset or gate moves
    // logits by > 1e-2).
    EXPECT_LE(testing::worst_tolerance_ratio(logits, expected.data, 2e-4, 2e-4), 1.0);
  }

  // The fixture's tensors, to break one of them.
  static std::map<std::string, ir::HostTensor> fixture_tensors(const std::string& name) {
    const io::Checkpoint checkpoint = io::Checkpoint::load(fixture(name));
    const auto source = models::WeightSource::from_checkpoint(checkpoint);
    std::map<std::string, ir::HostTensor> tensors;
    for (const auto& tensor : source.names()) tensors[tensor] = source.get(tensor);
    return tensors;
  }

  static std::string build_error(std::map<std::string, ir::HostTensor> tensors) {
    try {
      models::repmlpnet_family().build(models::WeightSource::from_tensors(std::move(tensors), "broken.pth"),
                                       "");
    } catch (const InputError& error) {
      return error.what();
    }
    return "no error";
  }
};

ir::HostTensor filled(ir::Shape shape, float value = 0.1f) {
  return ir::HostTensor::from(shape, std::vector<float>(ir::shape_numel(shape), value));
}

TEST_F(RepMlpNetTest, TrainingCheckpointMatchesPyTorch) { expect_pytorch_logits("official_train.pth"); }

TEST_F(RepMlpNetTest, DeployedCheckpointMatchesPyTorch) { expect_pytorch_logits("official_deploy.pth"); }

TEST_F(RepMlpNetTest, UnconvertedTrainingListMatchesPyTorch) {
  // The layer list as built (partition convs, BatchNorms, gates, adds): the reference the passes keep.
  expect_pytorch_logits("official_train.pth", false);
}

TEST_F(RepMlpNetTest, ConfigurationIsInferredFromTensorShapes) {
  const Model train = Model::load(fixture("official_train.pth"));
  EXPECT_EQ(train.info().config,
            "training-time channels 16,24,32,40 blocks 1,2,1,1 partitions 4,2,2,1 sharesets 1,4,8,8 kernels "
            "1,3 classes 7");
  EXPECT_EQ(train.info().variant, "custom");
  EXPECT_EQ(train.info().preprocessing.input_size, 32u);
  const Model deployed = Model::load(fixture("official_deploy.pth"));
  EXPECT_EQ(deployed.info().config,
            "deployed channels 16,24,32,40 blocks 1,2,1,1 partitions 4,2,2,1 sharesets 1,4,8,8 classes 7");
}

TEST_F(RepMlpNetTest, EachUnitRunsAsSixDispatchesWithNoBatchNormLeft) {
  const Model model = Model::load(fixture("official_train.pth"));
  const std::string layers = model.describe_layers(true, 1, 32);
  for (const char* op : {"batch_norm", "channel_affine", "partition_conv", "channel_gate", " add "})
    EXPECT_EQ(layers.find(op), std::string::npos) << op << " in\n" << layers;
  Session session(runtime(), model, {.batch = 1, .input_size = 32});
  // stem; per unit gp pool, gp fc1, gp fc2, fc3 (+prebn1, gate, residual), ffn_fc1 (+prebn2, GELU),
  // ffn_fc2 (+residual); three embeds; pool and head (head_norm folded in).
  EXPECT_EQ(session.dispatch_count(), 1u + 5 * 6 + 3 + 2);
}

TEST_F(RepMlpNetTest, PresetsListEveryOfficialVariant) {
  std::vector<std::string> names;
  for (const auto& preset : models::repmlpnet_family().presets()) names.push_back(preset.name);
  EXPECT_EQ(names, (std::vector<std::string>{"repmlpnet_t224", "repmlpnet_t256", "repmlpnet_b224",
                                             "repmlpnet_b256", "repmlpnet_d256", "repmlpnet_l256"}));
  EXPECT_EQ(models::repmlpnet_family().presets()[2].description,
            "training-time channels 96,192,384,768 blocks 2,2,12,2 partitions 56,28,14,7 sharesets "
            "1,4,32,128 kernels 1,3 classes 1000");
}

TEST_F(RepMlpNetTest, InputSizeThePartitionsDoNotTileIsAnInputError) {
  const Model model = Model::load(fixture("official_deploy.pth"));
  try {
    Session session(runtime(), model, {.batch = 1, .input_size = 40});  // stage 0 map 10x10, patches 4x4
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("partitions of 4x4 do not tile the 10x10 feature map"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(RepMlpNetTest, BranchWithoutItsBatchNormIsNamed) {
  auto tensors = fixture_tensors("official_train.pth");
  for (const char* role : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
    tensors.erase(std::string("stages.1.1.repmlp_block.repconv3.bn.") + role);
  EXPECT_EQ(build_error(std::move(tensors)),
            "broken.pth: missing tensor 'stages.1.1.repmlp_block.repconv3.bn.weight'");
}

TEST_F(RepMlpNetTest, InconsistentSharesetsAreNamed) {
  auto tensors = fixture_tensors("official_train.pth");
  tensors["stages.2.0.repmlp_block.fc3_bn.weight"] = filled({4});
  EXPECT_EQ(build_error(std::move(tensors)),
            "broken.pth: tensor 'stages.2.0.repmlp_block.fc3_bn.weight' has shape [4], expected [8]");
}

TEST_F(RepMlpNetTest, SharesetsThatDoNotDivideTheChannelsAreNamed) {
  auto tensors = fixture_tensors("official_deploy.pth");
  tensors["stages.1.0.repmlp_block.fc3.weight"] = filled({5 * 4, 4, 1, 1});  // 5 sharesets, 24 channels
  EXPECT_EQ(build_error(std::move(tensors)),
            "broken.pth: stage 1: 5 sharesets (from stages.1.0.repmlp_block.fc3.weight) do not divide its 24 "
            "channels");
}

}  // namespace
}  // namespace vkvision
