#include <cmath>

#include "ops/gemm.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using testing::DeviceTest;

class GemmTest : public DeviceTest {};

TEST_F(GemmTest, MatchesReferenceOnOddShapesWithGeluAndResidual) {
  const ops::GemmShape shape{.m = 37, .n = 97, .k = 40};
  auto x = random_values(shape.m * shape.k, 1), w = random_values(shape.n * shape.k, 2),
       b = random_values(shape.n, 3), r = random_values(shape.m * shape.n, 4);
  auto input = make_buffer(x), weight = make_buffer(ops::pack_gemm_weight(w, shape.n, shape.k)),
       bias = make_buffer(ops::pack_vec4_padded(b, shape.n)), residual = make_buffer(r),
       output = make_buffer(shape.m * shape.n);
  run({ops::gemm(device(), shape, ops::Activation::Gelu, {input, weight, bias, output, residual})});
  auto y = read(output, shape.m * shape.n);
  std::vector<float> expected(y.size());
  for (uint32_t m = 0; m < shape.m; ++m)
    for (uint32_t n = 0; n < shape.n; ++n) {
      double sum = b[n];
      for (uint32_t k = 0; k < shape.k; ++k) sum += double(x[m * shape.k + k]) * w[n * shape.k + k];
      expected[m * shape.n + n] = float(0.5 * sum * (1 + std::erf(sum / std::sqrt(2.0))) + r[m * shape.n + n]);
    }
  // fp32 sums of 40 products of O(1) values: rounding error ~ sqrt(40) * 6e-8 * |terms|; 1e-5 leaves margin.
  EXPECT_LE(testing::worst_tolerance_ratio(y, expected, 1e-5, 1e-5), 1.0);
}

}  // namespace
}  // namespace vkvision
