// LayerNorm (ops::layer_norm) through the conformance harness (ops/conformance.h): every case on the
// storage-buffer kernel and, where C % 4 == 0 (each gathered part's too), the texel-buffer one.
#include <cmath>
#include <optional>

#include "ops/conformance.h"
#include "ops/error_bounds.h"
#include "ops/layer_norm.h"
#include "selftest/ops/patch_gather_reference.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Path;

class LayerNormTest : public testing::DeviceTest {};

TEST_F(LayerNormTest, GatheredRowsThatDoNotMatchTheGatherAreRefused) {
  auto buffer = make_buffer(std::vector<float>(64, 0.0f));
  EXPECT_THROW(ops::layer_norm(device(), 5, 16, 1e-5f, buffer, buffer, buffer, std::nullopt,
                               ops::PatchGather{1, 4, 4}),
               vkvision::Error);
  EXPECT_THROW(ops::layer_norm(device(), 4, 18, 1e-5f, buffer, buffer, buffer, std::nullopt,
                               ops::PatchGather{1, 4, 4}),
               vkvision::Error);
}

TEST_F(LayerNormTest, ConstantRowNormalisesToBeta) {
  // Zero variance: (x - mean) = 0 exactly, so the output is beta whatever eps is.
  const uint32_t channels = 97;
  std::vector<float> x(channels * 3, 7.25f);
  auto gamma = random_values(channels, 490, 0.5f, 1.5f), beta = random_values(channels, 491, -0.5f, 0.5f);
  auto input = make_buffer(x), affine = make_buffer(ops::pack_layer_norm_affine(gamma, beta)),
       output = make_buffer(x.size());
  run({ops::layer_norm(device(), 3, channels, 1e-6f, input, affine, output)});
  auto y = read(output, x.size());
  for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], beta[i % channels]) << "index " << i;
}

}  // namespace
}  // namespace vkvision
