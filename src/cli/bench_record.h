// One `vkvision bench` record and the file that holds them: schema 2, the contract with
// bench/report.py (docs/BENCH_FORMAT.md lists every field; keep the names).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/bench_statistics.h"
#include "cli/provenance.h"
#include "vkvision/vkvision.h"

namespace vkvision::cli {

inline constexpr const char* kBenchSchema = "vkvision-bench";
inline constexpr int kBenchSchemaVersion = 2;

struct ModelRecord {
  ModelInfo info;
  std::optional<std::string> file, sha256;  // --weights and its digest; none for a preset
  double gflop = 0;                         // per image at the input size
  uint64_t parameters = 0;                  // values in the parameter tensors as executed
};

struct RunRecord {
  uint32_t batch = 1, input_size = 0;
  Precision precision = Precision::Fp32;
  KernelFamily kernels = KernelFamily::RegisterBlocked;  // what the session runs
  KernelFamily kernels_requested = KernelFamily::Auto;
  std::string kernels_reason;
  bool converted = true;
  uint64_t dispatches = 0, barriers = 0;
};

// Milliseconds of each step of a first run on an empty pipeline cache (bench_command.cpp).
struct ColdStart {
  double runtime_create = 0, model_load = 0, session_compile_empty_cache = 0, session_compile_warm_cache = 0,
         first_inference = 0;
};

struct SteadyState {
  uint32_t warmup = 0;
  uint64_t min_iterations = 0, iterations = 0;
  double min_seconds = 0, seconds = 0;
  LatencyStatistics ms;
};

struct BenchRecord {
  std::string created;
  BuildInfo build;
  HostInfo host;
  DeviceInfo device;
  ModelRecord model;
  RunRecord run;
  ColdStart cold_start;
  SteadyState steady_state;
  uint64_t weight_bytes = 0, activation_bytes = 0, peak_rss_bytes = 0;
  std::optional<nlohmann::json> layers, embedding;  // --per-layer, --embedding
};

nlohmann::json to_json(const BenchRecord& record);
// The record's parts that `vkvision selftest --json` shares: its "device", "vkvision" and "host".
nlohmann::json device_json(const DeviceInfo& device);
nlohmann::json build_json(const BuildInfo& build);
nlohmann::json host_json(const HostInfo& host);
// {"schema": "vkvision-bench", "schema_version": 2, "records": [...]}
nlohmann::json bench_file(const std::vector<BenchRecord>& records);

}  // namespace vkvision::cli
