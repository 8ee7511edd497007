// One op conformance harness: every op test declares its cases and its bounded CPU reference once,
// and the harness runs each case on every path (shader variant) of the op, one gtest per (case, path),
// named <Op>Test.Conformance/<Case>_<Path> (e.g. GemmTest.Conformance/SingleRowM1_TexelFp32).
//
// A path is an operand path (storage buffers, RGBA32F texel buffers), a GEMM kernel family (register-
// blocked, shared-memory tiled) and a weight precision (fp32, fp16). A path the device cannot run is
// skipped by name, never passed: GTEST_SKIP() << "path TexelFp16: no RGBA16F uniform texel buffers".
// `test_ops --perf` (or VKVISION_OPS_PERF=1) also times each (case, path) with GPU timestamps and
// prints one `[ PERF     ]` line of GFLOP/s; time is never asserted. ctest runs an op's cases on one
// path in one process, as the entry <Op>Test.Conformance/*_<Path> (discover_conformance.cmake),
// skipped there when every case skipped; --gtest_filter selects single (case, path) tests.
//
// Adding an op's cases:
//   struct FooParams { ...shape, activation, seed...; };
//   class FooTest : public testing::ConformanceTest<FooParams> {
//     testing::Outcome run_case(const FooParams& p, const testing::Path& path,
//                               const DeviceInfo& info) override {
//       // upload random inputs, build the dispatch for `info` (the device as the path needs it: a copy
//       // without texel buffers on storage paths), run() it, and return the output next to the
//       // reference with its derived bounds (ops/error_bounds.h), the dispatches and their flops.
//     }
//   };
//   TEST_P(FooTest, Conformance) { conform(); }
//   INSTANTIATE_TEST_SUITE_P(, FooTest, ::testing::ValuesIn(testing::on_paths<FooParams>({
//       {"OddShape", {...}, testing::kOperandPaths}, ...})), testing::CaseName{});
// A case lists the paths it applies to (by its shape: e.g. the texel GEMM needs K % 4 == 0); the
// harness skips, by name, those of them the device lacks; run_case returns Outcome::not_run for a
// limit only known on the device (a texel buffer too long), which is skipped the same way.
#pragma once
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ops/error_bounds.h"
#include "support/device_test.h"
#include "vk/shader_ids.h"

namespace vkvision::testing {

struct Path {
  enum class Operands { Default, Storage, Texel };
  Operands operands = Operands::Default;  // Default: the op has one operand path
  bool tiled = false;                     // the GEMM's shared-memory tiled family (storage operands)
  bool half_weights = false;              // weights stored as fp16
  bool texel_weights = true;              // on texel operands, the weights too (else a storage buffer)

  bool texel() const { return operands == Operands::Texel; }
  // "Default", or e.g. "StorageFp32", "TexelFp16", "TiledFp32".
  std::string name() const;
};

inline constexpr Path kDefault{};
inline constexpr Path kStorage{Path::Operands::Storage}, kTexel{Path::Operands::Texel};
inline constexpr Path kTiled{Path::Operands::Storage, true};
inline constexpr Path kStorageHalf{Path::Operands::Storage, false, true},
    kTexelHalf{Path::Operands::Texel, false, true};
inline constexpr Path kTiledHalf{Path::Operands::Storage, true, true};
inline constexpr Path kDefaultHalf{Path::Operands::Default, false, true};
// Texel inputs with the weights in a storage buffer (InceptionNeXt's four-channel kernel).
inline constexpr Path kTexelInputs{Path::Operands::Texel, false, false, false};
inline constexpr Path kTexelInputsHalf{Path::Operands::Texel, false, true, false};
// The two operand paths, fp32 or fp16 weights.
inline const std::vector<Path> kOperandPaths{kStorage, kTexel}, kOperandHalfPaths{kStorageHalf, kTexelHalf};

// Why the device cannot run `path` at all (texel buffers, the tiled family's limits, fp16 reads on
// that path), or empty when it can.
std::string path_unsupported_reason(const DeviceInfo& device, const Path& path);
// The device a path's dispatch is built for: on a storage path a copy without texel buffers, so that
// ops that choose their variant from the device take the storage one.
DeviceInfo device_for(const DeviceInfo& device, const Path& path);

// A device with texel buffers, fp16 reads and no texel-buffer length limit: what a case asks an op
// (e.g. ops::conv2d_uses_texel_path) to learn which paths its shape allows on any device.
inline DeviceInfo capable_device() {
  DeviceInfo info;
  info.texel_buffer_rgba32f = info.texel_buffer_rgba16f = info.storage_buffer_16bit = true;
  info.max_texel_buffer_elements = ~0u;
  return info;
}

// One declared case of an op: a name (letters and digits), its parameters and the paths it runs on.
template <class Params>
struct Case {
  std::string name;
  Params params;
  std::vector<Path> paths = {kDefault};
};

// One gtest: a case on one path.
template <class Params>
struct CasePath {
  std::string name;
  Params params;
  Path path;
};

template <class Params>
std::vector<CasePath<Params>> on_paths(const std::vector<Case<Params>>& cases) {
  std::vector<CasePath<Params>> all;
  for (const auto& c : cases)
    for (const Path& path : c.paths) all.push_back({c.name, c.params, path});
  return all;
}

template <class Params>
void PrintTo(const CasePath<Params>& c, std::ostream* out) {
  *out << c.name << " on " << c.path.name();
}

// The gtest parameter name: <Case>_<Path>.
struct CaseName {
  template <class Params>
  std::string operator()(const ::testing::TestParamInfo<CasePath<Params>>& info) const {
    return info.param.name + "_" + info.param.path.name();
  }
};

// What one run of a case gave: the output next to its bounded reference (exact checks: bound 0;
// several outputs concatenated), the dispatches that computed it and their arithmetic (for --perf).
struct Outcome {
  std::vector<float> actual;
  std::vector<Bounded> expected;
  std::vector<vk::Dispatch> dispatches;
  double flops = 0;                    // per run of the dispatches (0: --perf prints the time alone)
  std::optional<vk::ShaderId> shader;  // the shader the path must have run (none: not checked)
  std::string not_run;                 // non-empty: the path could not run this case on this device, and why
};

// Whether this run times the cases (test_ops --perf, or VKVISION_OPS_PERF=1).
bool perf_mode();
// Times `dispatches` (median of repeated submits, GPU timestamps where the queue has them) and prints
// one line: op, case, path, GFLOP/s and milliseconds.
void report_perf(vk::Context& context, vk::PipelineCache& pipelines, const std::string& op,
                 const std::string& name, const Outcome& outcome);

// Tolerance-style bounds (atol + rtol |expected|) as Bounded: the same test as worst_tolerance_ratio <= 1.
inline std::vector<Bounded> with_tolerance(const std::vector<float>& expected, double atol, double rtol) {
  std::vector<Bounded> bounded(expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    bounded[i] = {expected[i], atol + rtol * std::abs(double(expected[i]))};
  return bounded;
}
// Exact values (bound 0).
inline std::vector<Bounded> exactly(const std::vector<float>& expected) {
  return with_tolerance(expected, 0, 0);
}
inline void append(Outcome& outcome, const std::vector<float>& actual, const std::vector<Bounded>& expected) {
  outcome.actual.insert(outcome.actual.end(), actual.begin(), actual.end());
  outcome.expected.insert(outcome.expected.end(), expected.begin(), expected.end());
}

template <class Params>
class ConformanceTest : public DeviceTest, public ::testing::WithParamInterface<CasePath<Params>> {
 protected:
  // Runs one case on the device as the path needs it; see Outcome.
  virtual Outcome run_case(const Params& params, const Path& path, const DeviceInfo& info) = 0;

  // The body of the op's TEST_P: skips naming the path where the device cannot run it, else checks
  // the output against the bounded reference and the shader the path ran (and times it in --perf).
  void conform() {
    const CasePath<Params>& c = this->GetParam();
    const std::string path = c.path.name();
    if (const std::string reason = path_unsupported_reason(device(), c.path); !reason.empty())
      GTEST_SKIP() << "path " << path << ": " << reason;
    const Outcome outcome = run_case(c.params, c.path, device_for(device(), c.path));
    if (!outcome.not_run.empty()) GTEST_SKIP() << "path " << path << ": " << outcome.not_run;
    SCOPED_TRACE(c.name + " on " + path);
    if (outcome.shader) {
      ASSERT_FALSE(outcome.dispatches.empty());
      EXPECT_STREQ(vk::shader_name(outcome.dispatches.front().shader), vk::shader_name(*outcome.shader));
    }
    EXPECT_TRUE(within_bounds(outcome.actual, outcome.expected));
    if (perf_mode()) {
      const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
      report_perf(context(), pipelines(), test->test_suite_name(), c.name + "_" + path, outcome);
    }
  }
};

}  // namespace vkvision::testing
