// Swin v1 and v2 against PyTorch: fixtures from tools/make_swin_fixtures.py (torchvision's own model,
// renamed into the official and timm layouts) loaded through the real loaders.
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "io/npy.h"
#include "models/half_weights_tolerance.h"
#include "models/swin.h"
#include "support/model_test.h"
#include "support/paths.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

std::filesystem::path fixture(const std::string& name) { return testing::fixtures_dir() / "swin" / name; }

struct Case {
  const char* weights;
  const char* input;
  const char* logits;
  const char* naming;
  const char* family;
  KernelFamily kernels = KernelFamily::Auto;
  Precision precision = Precision::Fp32;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.weights << " on " << c.input; }

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = std::string(info.param.weights) + "_" + info.param.input +
                     (info.param.kernels == KernelFamily::SharedTiled ? "_tiled" : "") +
                     (info.param.precision == Precision::Fp16 ? "_fp16" : "");
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

class SwinTest : public testing::ModelTest, public ::testing::WithParamInterface<Case> {};

TEST_P(SwinTest, MatchesPyTorchLogits) {
  const Case c = GetParam();
  if (c.kernels == KernelFamily::SharedTiled)
    if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  if (c.precision == Precision::Fp16)
    if (const std::string reason = half_weights_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  const Model model = Model::load(fixture(c.weights));
  EXPECT_EQ(model.info().naming, c.naming);
  EXPECT_EQ(model.info().family, c.family);
  const io::NpyArray input = io::read_npy(fixture(c.input));
  const io::NpyArray expected = io::read_npy(fixture(c.logits));
  Session session(runtime(), model,
                  {.batch = static_cast<uint32_t>(input.shape[0]),
                   .input_size = static_cast<uint32_t>(input.shape[2]),
                   .kernels = c.kernels,
                   .precision = c.precision});
  const std::vector<float> logits = session.run(input.data);
  if (c.precision == Precision::Fp16) {
    const double tolerance = testing::kHalfWeightsLogitTolerance;  // derived in half_weights_tolerance.h
    EXPECT_LE(testing::worst_tolerance_ratio(logits, expected.data, tolerance, tolerance), 1.0);
    return;
  }
  // fp32 on both sides; attention adds exp/softmax rounding (~1e-6 relative) to the GEMM sums, and
  // LayerNorm renormalises every block. Same budget as ConvNeXt: 2e-4 absolute + 2e-4 relative, far
  // below what a wrong shift, mask, bias index or channel order does (differences of 1e-2 and more).
  EXPECT_LE(testing::worst_tolerance_ratio(logits, expected.data, 2e-4, 2e-4), 1.0);
}

INSTANTIATE_TEST_SUITE_P(
    Namings, SwinTest,
    ::testing::Values(Case{"v1_torchvision.pth", "input36.npy", "v1_logits36.npy", "torchvision", "swin"},
                      Case{"v1_torchvision.pth", "input32.npy", "v1_logits32.npy", "torchvision", "swin"},
                      Case{"v1_official.pth", "input32.npy", "v1_logits32.npy", "official", "swin"},
                      Case{"v1_timm.pth", "input32.npy", "v1_logits32.npy", "timm", "swin"},
                      Case{"v2_torchvision.pth", "input36.npy", "v2_logits36.npy", "torchvision", "swin_v2"},
                      Case{"v2_torchvision.pth", "input32.npy", "v2_logits32.npy", "torchvision", "swin_v2"},
                      // The GPU-class family, whichever family the plan picks on this device: tiled
                      // GEMMs with LayerNorm folded in, attention fused with its projection (and, in
                      // v1, the residual; v2 is post-norm).
                      Case{"v1_torchvision.pth", "input36.npy", "v1_logits36.npy", "torchvision", "swin",
                           KernelFamily::SharedTiled},
                      Case{"v1_official.pth", "input32.npy", "v1_logits32.npy", "official", "swin",
                           KernelFamily::SharedTiled},
                      Case{"v2_torchvision.pth", "input36.npy", "v2_logits36.npy", "torchvision", "swin_v2",
                           KernelFamily::SharedTiled},
                      // fp16 weights on both GEMM families.
                      Case{"v2_torchvision.pth", "input36.npy", "v2_logits36.npy", "torchvision", "swin_v2",
                           KernelFamily::RegisterBlocked, Precision::Fp16},
                      Case{"v2_torchvision.pth", "input36.npy", "v2_logits36.npy", "torchvision", "swin_v2",
                           KernelFamily::SharedTiled, Precision::Fp16},
                      Case{"v2_official.pth", "input32.npy", "v2_logits32.npy", "official", "swin_v2"},
                      Case{"v2_timm.pth", "input32.npy", "v2_logits32.npy", "timm", "swin_v2"},
                      // Our re-expression of the official swin_mlp.py (no torchvision model exists).
                      Case{"mlp_official.pth", "input32.npy", "mlp_logits32.npy", "official", "swin_mlp"}),
    case_name);

class SwinPlanTest : public testing::ModelTest {};

// Dispatches per network (fixture: depths 2,2,1 = 5 blocks, 2 patch mergings): patch embedding (conv,
// LN) + blocks + mergings + final norm, pool, head.
TEST_F(SwinPlanTest, BlockDispatchesPerKernelFamily) {
  const Model v1 = Model::load(fixture("v1_official.pth")), v2 = Model::load(fixture("v2_official.pth"));
  auto dispatches = [&](const Model& model, KernelFamily kernels) {
    return Session(runtime(), model, {.batch = 1, .input_size = 32, .kernels = kernels}).dispatch_count();
  };
  // Register family (lavapipe-class): a v1 block is LN, qkv, attention, proj+residual, LN, fc1+GELU,
  // fc2+residual = 7; a merging is LN reading the 2x2 gather in place, reduction = 2.
  EXPECT_EQ(dispatches(v1, KernelFamily::RegisterBlocked), 2u + 5 * 7 + 2 * 2 + 3);
  EXPECT_EQ(dispatches(v2, KernelFamily::RegisterBlocked), 2u + 5 * 7 + 2 * 2 + 3);
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  // GPU-class family: LN+qkv, attention+proj+residual, LN+fc1+GELU, fc2+residual = 4; a merging is
  // the same 2.
  EXPECT_EQ(dispatches(v1, KernelFamily::SharedTiled), 2u + 5 * 4 + 2 * 2 + 3);
  // v2 is post-norm: qkv, attention(+proj), LN+residual, fc1+GELU, fc2, LN+residual; its merging
  // normalises after the reduction, which with the gather is one 2x2/s2 conv: conv, LN.
  EXPECT_EQ(dispatches(v2, KernelFamily::SharedTiled), 2u + 5 * 6 + 2 * 2 + 3);
}

TEST(SwinCheckpointTest, BiasTableOfNoWindowSizeIsRejected) {
  auto source = models::preset_weights("swin_tiny_patch4_window7_224", 1);
  std::map<std::string, ir::HostTensor> tensors;
  for (const auto& name : source.names()) tensors[name] = source.get(name);
  tensors["layers.0.blocks.0.attn.relative_position_bias_table"] =
      ir::HostTensor::from({170, 3}, std::vector<float>(510, 0.0f));
  auto broken = models::WeightSource::from_tensors(std::move(tensors), "swin.pth");
  try {
    models::swin_family().build(broken, "");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(
        error.what(),
        "swin.pth: tensor 'layers.0.blocks.0.attn.relative_position_bias_table' has 170 rows, which is "
        "(2W-1)^2 for no window size W");
  }
}

TEST(SwinCheckpointTest, HeadsThatDoNotDivideTheWidthAreRejected) {
  auto source = models::preset_weights("swin_tiny_patch4_window7_224", 1);
  std::map<std::string, ir::HostTensor> tensors;
  for (const auto& name : source.names()) tensors[name] = source.get(name);
  tensors["layers.1.blocks.0.attn.relative_position_bias_table"] =
      ir::HostTensor::from({169, 5}, std::vector<float>(169 * 5, 0.0f));
  auto broken = models::WeightSource::from_tensors(std::move(tensors), "swin.pth");
  try {
    models::swin_family().build(broken, "");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "swin.pth: stage 1 has 5 heads, which do not divide its width 192");
  }
}

TEST(SwinCheckpointTest, MissingContinuousPositionBiasLayerIsNamed) {
  auto source = models::preset_weights("swinv2_tiny_window8_256", 1);
  std::map<std::string, ir::HostTensor> tensors;
  for (const auto& name : source.names())
    if (name != "layers.2.blocks.3.attn.cpb_mlp.2.weight") tensors[name] = source.get(name);
  auto broken = models::WeightSource::from_tensors(std::move(tensors), "swinv2.pth");
  try {
    models::swin_family().build(broken, "");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "swinv2.pth: missing tensor 'layers.2.blocks.3.attn.cpb_mlp.2.weight'");
  }
}

}  // namespace
}  // namespace vkvision
