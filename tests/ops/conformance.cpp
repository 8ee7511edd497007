#include "ops/conformance.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "selftest/run_check.h"
#include "vk/check.h"
#include "vk/timestamps.h"

namespace vkvision::testing {
namespace {

bool& perf_flag() {
  static bool flag = [] {
    const char* env = std::getenv("VKVISION_OPS_PERF");
    return env && env[0] && std::strcmp(env, "0") != 0;
  }();
  return flag;
}

}  // namespace

bool perf_mode() { return perf_flag(); }

void report_perf(vk::Context& context, vk::PipelineCache& pipelines, const std::string& op,
                 const std::string& name, const selftest::Outcome& outcome) {
  std::vector<vk::Dispatch> dispatches = outcome.dispatches;
  for (auto& dispatch : dispatches) dispatch.layer = -1;  // one interval over them all
  vk::DispatchProgram program(context, pipelines, dispatches);
  const bool timestamps = context.info().timestamps;
  VkQueryPool pool = VK_NULL_HANDLE;
  if (timestamps) {
    VkQueryPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                    .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                    .queryCount = 2};
    VKV_CHECK(vkCreateQueryPool(context.device(), &pool_info, nullptr, &pool));
  }
  vk::CommandBuffer commands(context);
  commands.begin();
  if (timestamps) commands.reset_queries(pool, 0, 2);
  program.record(commands, pool);
  commands.end();
  context.submit_and_wait(commands.handle());  // warm-up
  // Repeated submits until ~50 ms or 25 runs have passed; the median run.
  std::vector<double> ms;
  const auto start = std::chrono::steady_clock::now();
  while (ms.size() < 3 ||
         (ms.size() < 25 && std::chrono::steady_clock::now() - start < std::chrono::milliseconds(50))) {
    const auto before = std::chrono::steady_clock::now();
    context.submit_and_wait(commands.handle());
    const auto after = std::chrono::steady_clock::now();
    if (timestamps) {
      uint64_t ticks[2] = {};
      VKV_CHECK(vkGetQueryPoolResults(context.device(), pool, 0, 2, sizeof(ticks), ticks, sizeof(uint64_t),
                                      VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
      ms.push_back(double(vk::elapsed_ticks(ticks[0], ticks[1], context.info().timestamp_valid_bits)) *
                   context.info().timestamp_period_ns * 1e-6);
    } else {
      ms.push_back(std::chrono::duration<double, std::milli>(after - before).count());
    }
  }
  if (pool) vkDestroyQueryPool(context.device(), pool, nullptr);
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  char gflops[32] = "-";
  if (outcome.flops > 0 && median > 0)
    std::snprintf(gflops, sizeof(gflops), "%.2f", outcome.flops / (median * 1e6));
  std::printf("[ PERF     ] %-28s %-52s %9s GFLOP/s %10.4f ms (%s, %zu runs)\n", op.c_str(), name.c_str(),
              gflops, median, timestamps ? "GPU timestamps" : "wall clock", ms.size());
  std::fflush(stdout);
}

namespace {

// One op check as a gtest (its validation messages fail it, as DeviceTest's do).
class OpConformanceTest : public DeviceTest {
 public:
  explicit OpConformanceTest(selftest::OpCheck check) : check_(std::move(check)) {}

  void TestBody() override {
    selftest::CheckDevice& device = check_device();
    selftest::Outcome outcome;
    const selftest::CheckResult result = selftest::run_op_check(device, check_, &outcome);
    if (result.status == selftest::CheckStatus::NotSupported)
      GTEST_SKIP() << "path " << result.path << ": " << result.detail;
    EXPECT_EQ(result.status, selftest::CheckStatus::Passed)
        << check_.op << " " << check_.name << " (" << check_.shape << ") on " << result.path << ": "
        << result.detail;
    if (perf_mode() && result.status == selftest::CheckStatus::Passed)
      report_perf(context(), pipelines(), check_.op, check_.name + "_" + result.path, outcome);
  }

 private:
  selftest::OpCheck check_;
};

void register_op_checks() {
  for (selftest::OpCheck& check : selftest::all_op_checks()) {
    const std::string suite = check.op + "Conformance", name = check.name + "_" + check.path.name();
    ::testing::RegisterTest(suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [check]() -> OpConformanceTest* { return new OpConformanceTest(check); });
  }
}

}  // namespace
}  // namespace vkvision::testing

// test_ops' main: --perf (stripped before gtest sees it) turns on perf mode, as VKVISION_OPS_PERF=1 does.
int main(int argc, char** argv) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--perf") == 0)
      vkvision::testing::perf_flag() = true;
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  ::testing::InitGoogleTest(&argc, argv);
  vkvision::testing::register_op_checks();
  const int status = RUN_ALL_TESTS();
  // For ctest (discover_conformance.cmake): a run in which every test skipped is a skipped entry.
  const auto* unit = ::testing::UnitTest::GetInstance();
  if (status == 0 && unit->successful_test_count() == 0 && unit->skipped_test_count() > 0)
    std::printf("[ ALL SKIPPED ]\n");
  return status;
}
