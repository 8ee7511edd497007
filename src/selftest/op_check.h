// One op conformance check: a case of an op (its shapes, its bounded CPU reference in double) on one
// path of its kernels, runnable by `vkvision selftest` on any device and by the op tests
// (tests/ops/conformance.cpp registers each as the gtest <Op>Conformance.<Case>_<Path>).
//
// A path is an operand path (storage buffers, RGBA32F texel buffers), a GEMM kernel family
// (register-blocked, shared-memory tiled) and a weight precision (fp32, fp16). A path the device
// cannot run is reported by name as not supported, never passed.
//
// Adding an op's checks (selftest/ops/<op>_checks.cpp, listed in op_checks.cpp):
//   struct FooParams { ...shape, activation, seed...; };
//   std::string describe(const FooParams& p);  // "M 7, N 64, K 40": printed with a failure
//   class FooChecks : public CaseRunner {
//    public:
//     using CaseRunner::CaseRunner;
//     // Uploads random inputs, builds the dispatch for `info` (the device as the path needs it: a
//     // copy without texel buffers on storage paths), run()s it and returns the output next to the
//     // reference with its derived bounds (selftest/error_bounds.h), the dispatches and their flops.
//     Outcome run_case(const FooParams& p, const Path& path, const DeviceInfo& info);
//   };
//   void add_foo_checks(CheckList& list) {
//     add_cases<FooChecks, FooParams>(list, "Foo", {{"OddShape", {...}, kOperandPaths}, ...});
//   }
// A case lists the paths it applies to (by its shape: e.g. the texel GEMM needs K % 4 == 0);
// run_case returns Outcome::not_run for a limit only known on the device (a texel buffer too long).
#pragma once
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "selftest/check_device.h"
#include "selftest/error_bounds.h"
#include "vk/shader_ids.h"
#include "vkvision/error.h"

namespace vkvision::selftest {

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

// What one run of a case gave: the output next to its bounded reference (exact checks: bound 0;
// several outputs concatenated), the dispatches that computed it and their arithmetic.
struct Outcome {
  std::vector<float> actual;
  std::vector<Bounded> expected;
  std::vector<vk::Dispatch> dispatches;
  double flops = 0;                    // per run of the dispatches (0: unknown)
  std::optional<vk::ShaderId> shader;  // the shader the path must have run (none: not checked)
  std::string not_run;                 // non-empty: the path could not run this case on this device, and why
};

// A check that cannot go on (a shape the op refused): the message says why; the check fails.
struct CheckFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
inline void require(bool condition, const std::string& what) {
  if (!condition) throw CheckFailure("expected " + what);
}
// That `call` throws vkvision::Error (an op refusing a shape the device cannot take).
template <class Call>
void require_throws(Call call, const std::string& what) {
  try {
    call();
  } catch (const Error&) {
    return;
  }
  throw CheckFailure("expected: " + what);
}

// Tolerance-style bounds (atol + rtol |expected|) as Bounded.
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

// The base of an op's case runner: the check device's buffers and submits under the names the
// cases use.
class CaseRunner {
 public:
  explicit CaseRunner(CheckDevice& device) : device_(device) {}

 protected:
  vk::Context& context() const { return device_.context(); }
  vk::PipelineCache& pipelines() const { return device_.pipelines(); }
  const DeviceInfo& device() const { return device_.device(); }
  vk::BufferSlice make_buffer(const std::vector<float>& values) { return device_.make_buffer(values); }
  vk::BufferSlice make_buffer(size_t count, const float* values = nullptr) {
    return device_.make_buffer(count, values);
  }
  vk::BufferSlice make_half_buffer(const std::vector<float>& packed) {
    return device_.make_half_buffer(packed);
  }
  std::vector<float> read(const vk::BufferSlice& slice, size_t count) { return device_.read(slice, count); }
  void run(std::vector<vk::Dispatch> dispatches) { device_.run(std::move(dispatches)); }
  static std::vector<float> rounded_to_half(std::vector<float> values) {
    return CheckDevice::rounded_to_half(std::move(values));
  }
  static std::vector<float> random_values(size_t count, uint32_t seed, float low = -1.0f, float high = 1.0f) {
    return CheckDevice::random_values(count, seed, low, high);
  }

 private:
  CheckDevice& device_;
};

// One check: an op's case on one path.
struct OpCheck {
  std::string op;     // e.g. "Gemm"
  std::string name;   // the case, e.g. "SingleRowM1"
  std::string shape;  // its parameters, e.g. "M 1, N 64, K 40"
  Path path;
  std::function<Outcome(CheckDevice&, const DeviceInfo&)> run;
};
using CheckList = std::vector<OpCheck>;

template <class Runner, class Params>
void add_cases(CheckList& list, const std::string& op, const std::vector<Case<Params>>& cases) {
  for (const auto& c : cases)
    for (const Path& path : c.paths)
      list.push_back({op, c.name, describe(c.params), path,
                      [params = c.params, path](CheckDevice& device, const DeviceInfo& info) {
                        Runner runner(device);
                        return runner.run_case(params, path, info);
                      }});
}

// Every op's checks, in a fixed order (selftest/op_checks.cpp).
CheckList all_op_checks();

}  // namespace vkvision::selftest
