// `vkvision selftest`: every op kernel on every path the device runs, against its bounded CPU
// reference, and every family's small PyTorch fixture, on one device or all (selftest/). One line per
// check, a summary per device, and with --json every result. What a user runs on a new GPU or driver
// before trusting its numbers.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "api/state.h"
#include "cli/bench_record.h"
#include "cli/commands.h"
#include "selftest/model_checks.h"
#include "selftest/op_check.h"
#include "selftest/run_check.h"

#ifndef VKVISION_INSTALLED_FIXTURES
#define VKVISION_INSTALLED_FIXTURES ""
#endif
#ifndef VKVISION_SOURCE_FIXTURES
#define VKVISION_SOURCE_FIXTURES ""
#endif

namespace vkvision::cli {

namespace {

struct Options {
  int device = -1;
  bool all_devices = false, validation = false, quiet = false;
  std::string json, filter, fixtures;
  std::string only;  // "ops", "models" or empty (both)
};

// The family fixtures: --fixtures, else share/vkvision/selftest beside an installed executable, else
// the source tree's tests/fixtures.
std::filesystem::path fixtures_folder(const Options& options) {
  if (!options.fixtures.empty()) return options.fixtures;
  std::error_code error;
  const auto executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error && std::string_view(VKVISION_INSTALLED_FIXTURES).size()) {
    const auto installed = (executable.parent_path() / VKVISION_INSTALLED_FIXTURES).lexically_normal();
    if (std::filesystem::is_directory(installed, error)) return installed;
  }
  return VKVISION_SOURCE_FIXTURES;
}

nlohmann::json result_json(const selftest::CheckResult& result) {
  return {{"kind", result.kind},     {"op", result.op},
          {"case", result.name},     {"shape", result.shape},
          {"path", result.path},     {"status", selftest::status_name(result.status)},
          {"detail", result.detail}, {"seconds", result.seconds}};
}

struct Counts {
  int passed = 0, failed = 0, not_supported = 0;
  void add(selftest::CheckStatus status) {
    (status == selftest::CheckStatus::Passed         ? passed
     : status == selftest::CheckStatus::NotSupported ? not_supported
                                                     : failed)++;
  }
};

// Runs the checks on one device; returns its JSON record.
nlohmann::json check_device(int index, const Options& options, Counts& total) {
  const auto start = std::chrono::steady_clock::now();
  DeviceOptions device_options;
  device_options.device_index = index;
  device_options.validation = options.validation;
  const std::shared_ptr<Runtime> runtime = Runtime::create(device_options);
  const DeviceInfo& device = runtime->device();
  std::printf("== device %u: %s (%s %s, Vulkan %s)\n", device.index, device.name.c_str(),
              device.driver_name.c_str(), device.driver_info.c_str(), device.api_version_string().c_str());
  std::fflush(stdout);
  Counts counts;
  std::map<std::string, int> unsupported_reasons;
  nlohmann::json results = nlohmann::json::array();
  auto report = [&](const selftest::CheckResult& result) {
    counts.add(result.status);
    total.add(result.status);
    if (result.status == selftest::CheckStatus::NotSupported)
      ++unsupported_reasons[result.path + ": " + result.detail];
    if (!options.quiet || result.status == selftest::CheckStatus::Failed)
      std::printf("%s\n", selftest::format_result(result).c_str());
    std::fflush(stdout);
    results.push_back(result_json(result));
  };
  if (options.only != "models") {
    detail::RuntimeState& state = detail::Access::state(*runtime);
    selftest::CheckDevice check_device(state.context, *state.pipelines);
    for (const selftest::OpCheck& check : selftest::all_op_checks()) {
      if (!options.filter.empty() && (check.op + " " + check.name).find(options.filter) == std::string::npos)
        continue;
      report(selftest::run_op_check(check_device, check));
    }
  }
  if (options.only != "ops")
    selftest::run_model_checks(runtime, fixtures_folder(options), options.filter, report);
  const auto messages = runtime->validation_messages();
  for (const std::string& message : messages) {
    std::printf("FAILED  validation: %s\n", message.c_str());
    ++counts.failed;
    ++total.failed;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("== device %u: %d passed, %d failed, %d not supported (%.1f s)\n", device.index, counts.passed,
              counts.failed, counts.not_supported, seconds);
  for (const auto& [reason, count] : unsupported_reasons)
    std::printf("   not supported: %d x %s\n", count, reason.c_str());
  return {{"device", device_json(device)},
          {"passed", counts.passed},
          {"failed", counts.failed},
          {"not_supported", counts.not_supported},
          {"validation_messages", messages},
          {"seconds", seconds},
          {"results", results}};
}

}  // namespace

void add_selftest(CLI::App& app) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "selftest",
      "check every op kernel on every path the device runs against its CPU reference, and every family's "
      "PyTorch fixture; exit status 1 when a check fails");
  auto* device =
      command->add_option("--device", options->device, "device index (default: VKVISION_DEVICE, else 0)");
  command->add_flag("--all-devices", options->all_devices, "every Vulkan device present, one after another")
      ->excludes(device);
  command->add_option("--json", options->json, "also write every result to this JSON file");
  command->add_option("--filter", options->filter, "only checks whose op and case (or family) contain this");
  command->add_option("--only", options->only, "ops or models")->check(CLI::IsMember({"ops", "models"}));
  command->add_option(
      "--fixtures", options->fixtures,
      "the family fixtures' folder (default: share/vkvision/selftest, else the source tree's)");
  command->add_flag("--validation", options->validation,
                    "with VK_LAYER_KHRONOS_validation; a validation message fails the run");
  command->add_flag("--quiet", options->quiet, "print only failures and the summary");
  command->callback([options] {
    std::vector<int> indices;
    if (options->all_devices) {
      for (const DeviceInfo& info : list_devices()) {
        if (!info.unsupported_reason.empty())
          std::fprintf(stderr, "vkvision: device %u (%s) skipped: %s\n", info.index, info.name.c_str(),
                       info.unsupported_reason.c_str());
        else
          indices.push_back(static_cast<int>(info.index));
      }
      if (indices.empty()) throw DeviceError("no Vulkan device vkvision can run on");
    } else {
      indices.push_back(options->device);
    }
    Counts total;
    nlohmann::json devices = nlohmann::json::array();
    for (int index : indices) devices.push_back(check_device(index, *options, total));
    if (!options->json.empty()) {
      const nlohmann::json document = {{"schema", "vkvision-selftest"},
                                       {"schema_version", 1},
                                       {"vkvision", build_json(build_info())},
                                       {"host", host_json(probe_host())},
                                       {"passed", total.passed},
                                       {"failed", total.failed},
                                       {"not_supported", total.not_supported},
                                       {"devices", devices}};
      std::ofstream out(options->json);
      if (!(out << document.dump(2) << "\n")) throw InputError(options->json + ": cannot write");
    }
    if (total.failed > 0)
      throw std::runtime_error("selftest: " + std::to_string(total.failed) + " of " +
                               std::to_string(total.passed + total.failed + total.not_supported) +
                               " checks failed");
  });
}

}  // namespace vkvision::cli
