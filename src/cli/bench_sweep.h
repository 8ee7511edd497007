// `vkvision bench --sweep KEY=V1,V2 ...`: the grid of runs, one bench record per point.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vkvision/vkvision.h"

namespace vkvision::cli {

struct SweepPoint {
  uint32_t batch = 1;
  Precision precision = Precision::Fp32;
  KernelFamily kernels = KernelFamily::Auto;
};

// The grid of `terms` (each "batch=1,8", "precision=fp32,fp16" or "kernels=auto,register,tiled,timed";
// any subset, each key once), nested batch, then precision, then kernels; a key not given takes its
// value from `base` (--batch, --precision, --kernels). No terms: `base` alone. Throws InputError, one
// line naming the term, for an unknown or repeated key, a term without '=', or a bad value.
std::vector<SweepPoint> parse_sweep(const std::vector<std::string>& terms, const SweepPoint& base);

// "fp32" / "fp16"; "auto", "register", "tiled", "timed" (the --kernels spellings).
std::string precision_name(Precision precision);
std::string kernels_name(KernelFamily kernels);

}  // namespace vkvision::cli
