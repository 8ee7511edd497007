// The op tests' view of the op checks (selftest/op_check.h, the cases and their bounded references,
// shared with `vkvision selftest`): conformance.cpp registers every check as the gtest
// <Op>Conformance.<Case>_<Path> (e.g. GemmConformance.SingleRowM1_TexelFp32), failed on any element
// outside its bound, skipped by name where the device lacks the path. ctest runs an op's cases on
// one path in one process, as the entry <Op>Conformance.*_<Path> (discover_conformance.cmake),
// skipped there when every case skipped; --gtest_filter selects single checks.
// `test_ops --perf` (or VKVISION_OPS_PERF=1) also times each check with GPU timestamps and prints
// one `[ PERF     ]` line of GFLOP/s; time is never asserted.
#pragma once
#include <string>

#include "ops/error_bounds.h"
#include "selftest/op_check.h"
#include "support/device_test.h"

namespace vkvision::testing {

// Whether this run times the checks (test_ops --perf, or VKVISION_OPS_PERF=1).
bool perf_mode();
// Times `dispatches` (median of repeated submits, GPU timestamps where the queue has them) and prints
// one line: op, case, path, GFLOP/s and milliseconds.
void report_perf(vk::Context& context, vk::PipelineCache& pipelines, const std::string& op,
                 const std::string& name, const selftest::Outcome& outcome);

}  // namespace vkvision::testing
