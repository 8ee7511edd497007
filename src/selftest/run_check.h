// Running one check and saying what it found, the same way for `vkvision selftest` and the tests.
#pragma once
#include <string>

#include "selftest/op_check.h"

namespace vkvision::selftest {

enum class CheckStatus { Passed, Failed, NotSupported };
const char* status_name(CheckStatus status);  // "passed", "failed", "not supported"

struct CheckResult {
  std::string kind;   // "op" or "model"
  std::string op;     // the op, or the model family
  std::string name;   // the case, or the fixture
  std::string shape;  // the case's shapes, or the fixture's input
  std::string path;   // e.g. "TexelFp16", "RegisterFp32"
  CheckStatus status = CheckStatus::Failed;
  // Failed: what went wrong (the worst element and its bound, or the error); not supported: why;
  // passed: the worst error as a fraction of its bound.
  std::string detail;
  double seconds = 0;
};

// Runs `check` on the device: not supported where the device lacks its path (or a limit the case
// meets), failed on an error, a wrong shader or any element outside its bound. With `outcome`, also
// hands back what the kernel computed (the op tests time it).
CheckResult run_op_check(CheckDevice& device, const OpCheck& check, Outcome* outcome = nullptr);

}  // namespace vkvision::selftest

namespace vkvision::selftest {

// One line for a result: status, op and case, its shapes, the path, and the detail (for a failure
// the worst element and its bound), e.g.
//   FAILED  op Grn TwoImagesOf7x7With18Channels [N 2, pixels 49, C 18] Default: 36 of 36 elements ...
std::string format_result(const CheckResult& result);

}  // namespace vkvision::selftest
