#include "selftest/run_check.h"

#include <chrono>
#include <exception>

namespace vkvision::selftest {

const char* status_name(CheckStatus status) {
  switch (status) {
    case CheckStatus::Passed: return "passed";
    case CheckStatus::NotSupported: return "not supported";
    default: return "failed";
  }
}

namespace {

CheckStatus judge(CheckDevice& device, const OpCheck& check, Outcome& outcome, std::string& detail) {
  if (std::string reason = path_unsupported_reason(device.device(), check.path); !reason.empty()) {
    detail = std::move(reason);
    return CheckStatus::NotSupported;
  }
  try {
    outcome = check.run(device, device_for(device.device(), check.path));
  } catch (const std::exception& error) {
    detail = error.what();
    return CheckStatus::Failed;
  }
  if (!outcome.not_run.empty()) {
    detail = outcome.not_run;
    return CheckStatus::NotSupported;
  }
  if (outcome.shader) {
    const char* ran =
        outcome.dispatches.empty() ? "no dispatch" : vk::shader_name(outcome.dispatches.front().shader);
    if (std::string(ran) != vk::shader_name(*outcome.shader)) {
      detail = std::string("ran ") + ran + ", expected shader " + vk::shader_name(*outcome.shader);
      return CheckStatus::Failed;
    }
  }
  const BoundsResult bounds = within_bounds(outcome.actual, outcome.expected);
  detail = bounds.message;
  return bounds.ok ? CheckStatus::Passed : CheckStatus::Failed;
}

}  // namespace

CheckResult run_op_check(CheckDevice& device, const OpCheck& check, Outcome* outcome) {
  CheckResult result{"op", check.op, check.name, check.shape, check.path.name()};
  const auto start = std::chrono::steady_clock::now();
  Outcome local;
  Outcome& kept = outcome ? *outcome : local;
  result.status = judge(device, check, kept, result.detail);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!outcome) device.release_buffers();
  return result;
}

}  // namespace vkvision::selftest

namespace vkvision::selftest {

std::string format_result(const CheckResult& result) {
  const char* status = result.status == CheckStatus::Passed         ? "passed "
                       : result.status == CheckStatus::NotSupported ? "n/a    "
                                                                    : "FAILED ";
  std::string line = std::string(status) + " " + result.kind + " " + result.op + " " + result.name;
  if (!result.shape.empty()) line += " [" + result.shape + "]";
  line += " " + result.path;
  if (!result.detail.empty()) line += ": " + result.detail;
  return line;
}

}  // namespace vkvision::selftest
