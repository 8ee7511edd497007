#include "cli/bench_record.h"

#include "cli/bench_sweep.h"
#include "cli/driver_version.h"

namespace vkvision::cli {

nlohmann::json device_json(const DeviceInfo& device) {
  nlohmann::json heaps = nlohmann::json::array();
  for (const auto& heap : device.memory_heaps)
    heaps.push_back({{"bytes", heap.size}, {"device_local", heap.device_local}});
  return {{"index", device.index},
          {"name", device.name},
          {"type", device.type},
          {"vendor_id", device.vendor_id},
          {"device_id", device.device_id},
          {"driver_name", device.driver_name},
          {"driver_info", device.driver_info},
          {"driver_version", device.driver_version},
          {"driver_version_decoded", decode_driver_version(device.vendor_id, device.driver_version)},
          {"api_version", device.api_version_string()},
          {"subgroup_size", device.subgroup_size},
          {"device_local_bytes", device.device_local_bytes},
          {"memory_heaps", heaps},
          {"unified_memory", device.unified_memory}};
}

nlohmann::json build_json(const BuildInfo& build) {
  return {{"version", build.version},
          {"commit", build.commit},
          {"build_type", build.build_type},
          {"compiler", build.compiler}};
}

nlohmann::json host_json(const HostInfo& host) {
  return {{"cpu", host.cpu},
          {"cores", host.cores},
          {"os", host.os},
          {"kernel", host.kernel},
          {"environment", nlohmann::json(host.environment)}};
}

namespace {
nlohmann::json model_json(const ModelRecord& model) {
  const auto optional = [](const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  return {{"name", model.info.variant},
          {"family", model.info.family},
          {"source", model.file ? "file" : "preset"},
          {"file", optional(model.file)},
          {"sha256", optional(model.sha256)},
          {"config", model.info.config},
          {"gflop", model.gflop},
          {"parameters", model.parameters}};
}

nlohmann::json run_json(const RunRecord& run) {
  return {{"batch", run.batch},
          {"input_size", run.input_size},
          {"precision", precision_name(run.precision)},
          {"kernels", run.kernels == KernelFamily::SharedTiled ? "shared-tiled" : "register-blocked"},
          {"kernels_requested", kernels_name(run.kernels_requested)},
          {"kernels_reason", run.kernels_reason},
          {"converted", run.converted},
          {"dispatches", run.dispatches},
          {"barriers", run.barriers}};
}

nlohmann::json steady_state_json(const SteadyState& steady, const RunRecord& run, double gflop) {
  const LatencyStatistics& ms = steady.ms;
  return {{"warmup", steady.warmup},
          {"min_iterations", steady.min_iterations},
          {"min_seconds", steady.min_seconds},
          {"iterations", steady.iterations},
          {"seconds", steady.seconds},
          {"mean_ms", ms.mean},
          {"stddev_ms", ms.stddev},
          {"min_ms", ms.min},
          {"p50_ms", ms.p50},
          {"p90_ms", ms.p90},
          {"p99_ms", ms.p99},
          {"max_ms", ms.max},
          {"images_per_second", ms.mean > 0 ? run.batch * 1000.0 / ms.mean : 0.0},
          {"gflop_per_second", ms.p50 > 0 ? gflop * run.batch / (ms.p50 / 1000.0) : 0.0}};
}
}  // namespace

nlohmann::json to_json(const BenchRecord& record) {
  const ColdStart& cold = record.cold_start;
  nlohmann::json result = {
      {"created", record.created},
      {"vkvision", build_json(record.build)},
      {"host", host_json(record.host)},
      {"device", device_json(record.device)},
      {"model", model_json(record.model)},
      {"run", run_json(record.run)},
      {"cold_start_ms",
       {{"runtime_create", cold.runtime_create},
        {"model_load", cold.model_load},
        {"session_compile_empty_cache", cold.session_compile_empty_cache},
        {"session_compile_warm_cache", cold.session_compile_warm_cache},
        {"first_inference", cold.first_inference}}},
      {"steady_state", steady_state_json(record.steady_state, record.run, record.model.gflop)},
      {"memory",
       {{"weight_bytes", record.weight_bytes},
        {"activation_bytes", record.activation_bytes},
        {"peak_rss_bytes", record.peak_rss_bytes}}}};
  if (record.layers) result["layers"] = *record.layers;
  if (record.embedding) result["embedding"] = *record.embedding;
  return result;
}

nlohmann::json bench_file(const std::vector<BenchRecord>& records) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& record : records) list.push_back(to_json(record));
  return {{"schema", kBenchSchema}, {"schema_version", kBenchSchemaVersion}, {"records", list}};
}

}  // namespace vkvision::cli
