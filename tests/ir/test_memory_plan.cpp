#include <gtest/gtest.h>

#include "ir/memory_plan.h"

namespace vkvision {
namespace {

TEST(MemoryPlanTest, TensorsAliveTogetherNeverOverlap) {
  std::vector<ir::TensorLifetime> tensors = {{"a", 100, 0, 2}, {"b", 300, 1, 3}, {"c", 50, 2, 4},
                                             {"d", 300, 3, 5}, {"e", 120, 4, 6}, {"f", 64, 5, 6}};
  const auto plan = ir::plan_memory(tensors, 16);
  for (const auto& x : tensors)
    for (const auto& y : tensors) {
      if (x.name >= y.name || x.last < y.first || y.last < x.first) continue;
      const uint64_t x0 = plan.offsets.at(x.name), y0 = plan.offsets.at(y.name);
      EXPECT_TRUE(x0 + x.bytes <= y0 || y0 + y.bytes <= x0) << x.name << " and " << y.name << " overlap";
    }
  for (const auto& [name, offset] : plan.offsets) EXPECT_EQ(offset % 16, 0u) << name;
  EXPECT_LT(plan.total_bytes, plan.naive_bytes);
}

TEST(MemoryPlanTest, AChainNeedsOnlyTwoBuffers) {
  std::vector<ir::TensorLifetime> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({"t" + std::to_string(i), 256, i, i + 1});
  const auto plan = ir::plan_memory(chain, 256);
  EXPECT_EQ(plan.total_bytes, 512u);
}

}  // namespace
}  // namespace vkvision
