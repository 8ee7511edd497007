#include <filesystem>
#include <fstream>
#include <sstream>

#include "exec/kernel_trial.h"
#include "ops/gemm.h"
#include "support/device_test.h"
#include "support/test_directory.h"

namespace vkvision {
namespace {

class KernelTrialTest : public testing::DeviceTest {
 protected:
  testing::TestDirectory directory_storage_{"vkvision-trial"};
  const std::filesystem::path& directory_ = directory_storage_.path();
};

TEST_F(KernelTrialTest, ForcedFamiliesAreTakenAsRequested) {
  vk::PipelineCache cache(context_ptr(), directory_);
  const std::string tiled_unsupported = tiled_family_unsupported();
  for (auto family : {KernelFamily::RegisterBlocked, KernelFamily::SharedTiled}) {
    const auto choice = exec::choose_kernel_family(context_ptr(), cache, family);
    if (tiled_unsupported.empty()) {
      EXPECT_EQ(choice.family, family);
      EXPECT_EQ(choice.reason, "requested");
    } else {
      // A device that cannot run the tiled family gets the register one, and the reason says why.
      EXPECT_EQ(choice.family, KernelFamily::RegisterBlocked);
      EXPECT_EQ(choice.reason,
                (family == KernelFamily::SharedTiled ? "tiled requested, but " : "") + tiled_unsupported);
    }
  }
  EXPECT_FALSE(std::filesystem::exists(cache.decisions_file()));
}

// Auto takes the rule where the device's properties settle it (lavapipe: the register family), and
// otherwise runs the timed trial and caches it; whichever this device is, one branch is asserted.
TEST_F(KernelTrialTest, AutoFollowsTheDevicePropertiesOrRunsTheTrial) {
  const auto rule = ops::preferred_gemm_operands(device());
  vk::PipelineCache cache(context_ptr(), directory_);
  const auto choice = exec::choose_kernel_family(context_ptr(), cache, KernelFamily::Auto);
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) {
    EXPECT_EQ(choice.family, KernelFamily::RegisterBlocked);
    EXPECT_EQ(choice.reason, reason);  // no trial: only one family can run
    EXPECT_FALSE(std::filesystem::exists(cache.decisions_file()));
  } else if (rule) {
    EXPECT_EQ(choice.reason, "device properties");
    EXPECT_EQ(choice.family,
              *rule == ops::GemmOperands::Tiled ? KernelFamily::SharedTiled : KernelFamily::RegisterBlocked);
    EXPECT_FALSE(std::filesystem::exists(cache.decisions_file()));
  } else {
    EXPECT_EQ(choice.reason, "timed trial");
    EXPECT_TRUE(std::filesystem::exists(cache.decisions_file()));
  }
}

TEST_F(KernelTrialTest, TrialRunsOnceAndIsCachedBesideThePipelineCache) {
  if (const std::string reason = tiled_family_unsupported(); !reason.empty())
    GTEST_SKIP() << "no trial: " << reason;
  KernelFamily first_family;
  std::filesystem::path file;
  {
    vk::PipelineCache cache(context_ptr(), directory_);
    const auto first = exec::choose_kernel_family(context_ptr(), cache, KernelFamily::Timed);
    EXPECT_EQ(first.reason, "timed trial");
    first_family = first.family;
    file = cache.decisions_file();
    // The same cache object answers from memory.
    EXPECT_EQ(exec::choose_kernel_family(context_ptr(), cache, KernelFamily::Timed).reason, "cached trial");
  }
  EXPECT_EQ(file.parent_path(), directory_);
  std::ifstream in(file);
  std::string name, word;
  double register_ms = 0, tiled_ms = 0;
  in >> name >> word >> register_ms >> tiled_ms;
  EXPECT_EQ(name, exec::kGemmFamilyDecision);
  EXPECT_EQ(word, first_family == KernelFamily::SharedTiled ? "tiled" : "register");
  EXPECT_GT(register_ms, 0.0);
  EXPECT_GT(tiled_ms, 0.0);
  EXPECT_EQ(word == "tiled", tiled_ms < register_ms);
  if (device().type == "CPU" && device().subgroup_size <= 8) {
    EXPECT_EQ(word, "register") << "lavapipe-class device: shared memory is emulated (LAVAPIPE.md)";
  }

  // A new cache object (a new process) reads the file instead of timing again.
  vk::PipelineCache reloaded(context_ptr(), directory_);
  const auto again = exec::choose_kernel_family(context_ptr(), reloaded, KernelFamily::Timed);
  EXPECT_EQ(again.reason, "cached trial");
  EXPECT_EQ(again.family, first_family);
}

TEST_F(KernelTrialTest, CachedDecisionIsHonouredAndAGarbledOneIsRetimed) {
  if (const std::string reason = tiled_family_unsupported(); !reason.empty())
    GTEST_SKIP() << "no trial: " << reason;
  {
    vk::PipelineCache cache(context_ptr(), directory_);
    cache.record_decision(exec::kGemmFamilyDecision, "tiled 9 1");
  }
  {
    vk::PipelineCache cache(context_ptr(), directory_);
    const auto choice = exec::choose_kernel_family(context_ptr(), cache, KernelFamily::Timed);
    EXPECT_EQ(choice.family, KernelFamily::SharedTiled);
    EXPECT_EQ(choice.reason, "cached trial");
    cache.record_decision(exec::kGemmFamilyDecision, "fastest");
  }
  vk::PipelineCache cache(context_ptr(), directory_);
  EXPECT_EQ(exec::choose_kernel_family(context_ptr(), cache, KernelFamily::Timed).reason, "timed trial");
}

}  // namespace
}  // namespace vkvision
