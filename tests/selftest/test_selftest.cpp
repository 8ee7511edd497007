// The self-test's own test: it must catch a broken kernel. A copy of grn_scale.comp with an
// off-by-one (grn_scale_off_by_one.comp, compiled at build time) stands in for the embedded shader,
// as a miscompiling driver would; the Grn checks must then fail, naming the op, the path, the worst
// element and its bound, while the same checks pass with the real shader.
#include <gtest/gtest.h>

#include <cstdio>

#include "selftest/check_device.h"
#include "selftest/op_check.h"
#include "selftest/run_check.h"
#include "support/device_test.h"

namespace vkvision::vk {
extern const uint32_t spirv_grn_scale_off_by_one[];
extern const size_t spirv_grn_scale_off_by_one_words;
}  // namespace vkvision::vk

namespace vkvision {
namespace {

std::vector<selftest::OpCheck> grn_checks() {
  std::vector<selftest::OpCheck> checks;
  for (auto& check : selftest::all_op_checks())
    if (check.op == "Grn") checks.push_back(check);
  return checks;
}

class SelftestTest : public testing::DeviceTest {};

TEST_F(SelftestTest, TheRealKernelPasses) {
  const auto checks = grn_checks();
  ASSERT_FALSE(checks.empty());
  selftest::CheckDevice device(context_ptr(), pipelines());
  for (const auto& check : checks) {
    const selftest::CheckResult result = selftest::run_op_check(device, check);
    EXPECT_EQ(result.status, selftest::CheckStatus::Passed) << selftest::format_result(result);
  }
}

TEST_F(SelftestTest, AnOffByOneKernelIsReportedFailedWithItsOpPathAndWorstElement) {
  // A pipeline cache of its own, without a disk file, so the substitute reaches no other test.
  vk::PipelineCache broken(context_ptr(), {}, false);
  broken.substitute_shader(vk::ShaderId::grn_scale,
                           {vk::spirv_grn_scale_off_by_one,
                            vk::spirv_grn_scale_off_by_one + vk::spirv_grn_scale_off_by_one_words});
  selftest::CheckDevice device(context_ptr(), broken);
  const auto checks = grn_checks();
  for (const auto& check : checks) {
    const selftest::CheckResult result = selftest::run_op_check(device, check);
    const std::string line = selftest::format_result(result);
    EXPECT_EQ(result.status, selftest::CheckStatus::Failed) << line;
    EXPECT_EQ(
        line.rfind("FAILED  op Grn " + check.name + " [" + check.shape + "] " + check.path.name() + ": ", 0),
        0u)
        << line;
    EXPECT_NE(line.find("outside the bound; worst error/bound"), std::string::npos) << line;
    EXPECT_NE(line.find(", bound "), std::string::npos) << line;
    if (&check == &checks.front()) std::printf("[ REPORTED ] %s\n", line.c_str());
  }
}

}  // namespace
}  // namespace vkvision
