// The command line as a user meets it: bad input gives one line naming the file and the problem,
// exit code 2, and no output file; good input gives PyTorch's logits.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "ops/half_weights.h"
#include "support/paths.h"
#include "support/safetensors_writer.h"
#include "vkvision/device.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

Result run_cli(const std::string& arguments) {
  const std::string command = std::string(VKVISION_CLI_PATH) + " " + arguments + " 2>&1";
  Result result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

fs::path fixtures() { return vkvision::testing::fixtures_dir(); }

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("vkvision_cli_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path write_file(const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return dir / name;
  }

  static std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void expect_one_line_error(const Result& result, const std::string& must_contain) {
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_NE(result.output.find(must_contain), std::string::npos) << result.output;
  }

  fs::path dir;
};

TEST_F(CliTest, RunWritesPyTorchLogits) {
  const fs::path output = dir / "logits.npy";
  auto result = run_cli("run --weights " + (fixtures() / "convnext/timm.safetensors").string() + " --input " +
                        (fixtures() / "convnext/input.npy").string() + " --output " + output.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto logits = vkvision::io::read_npy(output);
  const auto expected = vkvision::io::read_npy(fixtures() / "convnext/timm_logits.npy");
  ASSERT_EQ(logits.shape, expected.shape);
  // Same tolerance and reasoning as tests/models/test_convnext.cpp.
  for (size_t i = 0; i < logits.data.size(); ++i)
    EXPECT_NEAR(logits.data[i], expected.data[i], 2e-4 + 2e-4 * std::abs(expected.data[i]));
}

// Whether the device the CLI runs on (device 0 unless VKVISION_DEVICE says otherwise) reads fp16 weights.
bool device_reads_half_weights() {
  const auto devices = vkvision::list_devices();
  const char* index = std::getenv("VKVISION_DEVICE");
  const size_t i = index ? size_t(std::atoi(index)) : 0;
  return i < devices.size() && vkvision::ops::half_weights_unsupported_reason(devices[i]).empty();
}

TEST_F(CliTest, RunWithHalfWeightsStaysWithinTheFp16Budget) {
  const fs::path output = dir / "logits.npy";
  if (!device_reads_half_weights()) {
    // Refused as a device error, in one line naming what is missing.
    auto result =
        run_cli("run --precision fp16 --weights " + (fixtures() / "convnext/timm.safetensors").string() +
                " --input " + (fixtures() / "convnext/input.npy").string() + " --output " + output.string());
    EXPECT_EQ(result.exit_code, 3) << result.output;
    EXPECT_NE(result.output.find("use fp32"), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(output));
    GTEST_SKIP() << "the device reads no fp16 weights (refusal checked)";
  }
  auto result =
      run_cli("run --precision fp16 --weights " + (fixtures() / "convnext/timm.safetensors").string() +
              " --input " + (fixtures() / "convnext/input.npy").string() + " --output " + output.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto logits = vkvision::io::read_npy(output);
  const auto expected = vkvision::io::read_npy(fixtures() / "convnext/timm_logits.npy");
  ASSERT_EQ(logits.shape, expected.shape);
  // The budget derived in tests/models/half_weights_tolerance.h.
  for (size_t i = 0; i < logits.data.size(); ++i)
    EXPECT_NEAR(logits.data[i], expected.data[i], 5e-3 + 5e-3 * std::abs(expected.data[i]));
}

TEST_F(CliTest, BenchReportsThePrecisionAndAnUnknownOneIsAUsageError) {
  const fs::path report = dir / "bench.json";
  const char* precision = device_reads_half_weights() ? "fp16" : "fp32";
  auto result = run_cli("bench --model convnext_atto --size 32 --iters 1 --warmup 0 --precision " +
                        std::string(precision) + " --json " + report.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(read_file(report).find("\"precision\": \"" + std::string(precision) + "\""), std::string::npos)
      << read_file(report);
  EXPECT_EQ(run_cli("bench --model convnext_atto --precision fp8").exit_code, 2);
}

// spec_minimum (tests/support/device_profiles) reads no fp16 weights: that point fails, fp32 is written.
TEST_F(CliTest, BenchSweepPointTheDeviceCannotRunIsNamedAndTheOthersAreWritten) {
  if (!std::getenv("VK_ADD_LAYER_PATH")) GTEST_SKIP() << "needs the device-profile layer (run under ctest)";
  const fs::path report = dir / "bench.json";
  setenv("VKVISION_DEVICE_PROFILE", "spec_minimum", 1);
  auto result = run_cli(
      "bench --model convnext_atto --size 32 --iters 1 --warmup 0 --sweep precision=fp32,fp16 "
      "--json " +
      report.string());
  unsetenv("VKVISION_DEVICE_PROFILE");
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("1 of 2 bench runs failed"), std::string::npos) << result.output;
  EXPECT_NE(read_file(report).find("\"precision\": \"fp32\""), std::string::npos);
  EXPECT_EQ(read_file(report).find("\"precision\": \"fp16\""), std::string::npos);
}

TEST_F(CliTest, BenchSweepWithAnUnknownKeyIsAOneLineUsageError) {
  expect_one_line_error(run_cli("bench --model convnext_atto --sweep batch=1 colour=red"),
                        "unknown key 'colour'");
}

TEST_F(CliTest, SelftestPrintsALinePerCheckAndWritesEveryResult) {
  const fs::path json = dir / "selftest.json";
  auto result = run_cli("selftest --validation --filter Grn --json " + json.string());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(
                "passed  op Grn TwoImagesOf7x7With18Channels [N 2, pixels 49, C 18] Default: all 36"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(" passed, 0 failed, 0 not supported"), std::string::npos) << result.output;
  const auto document = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(document["schema"], "vkvision-selftest");
  ASSERT_EQ(document["devices"].size(), 1u);
  const auto& device = document["devices"][0];
  EXPECT_EQ(device["failed"], 0);
  EXPECT_EQ(device["passed"], device["results"].size());
  EXPECT_EQ(device["results"][0]["op"], "Grn");
  EXPECT_EQ(device["results"][0]["status"], "passed");
}

TEST_F(CliTest, SelftestWithAMissingFixtureFailsNamingItAndExitsOne) {
  auto result = run_cli("selftest --only models --filter gmlp --fixtures " + dir.string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("FAILED  model gmlp mlp/gmlp_timm.safetensors load: " +
                               (dir / "mlp/gmlp_timm.safetensors").string()),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("vkvision: error: selftest: 1 of 1 checks failed"), std::string::npos)
      << result.output;
}

TEST_F(CliTest, TruncatedCheckpointFailsWithOneLineAndNoOutput) {
  const std::string good = read_file(fixtures() / "convnext/timm.safetensors");
  const fs::path weights = write_file("truncated.safetensors", good.substr(0, good.size() / 2));
  const fs::path output = dir / "out.npy";
  auto result = run_cli("run --weights " + weights.string() + " --input " +
                        (fixtures() / "convnext/input.npy").string() + " --output " + output.string());
  expect_one_line_error(result, weights.string());
  EXPECT_FALSE(fs::exists(output));
}

TEST_F(CliTest, TrainingCheckpointWithABranchMissingItsBatchNormIsRejected) {
  const fs::path weights = fixtures() / "repvgg/broken_missing_bn.safetensors", output = dir / "out.npy";
  auto result = run_cli("run --weights " + weights.string() + " --input " +
                        (fixtures() / "repvgg/input.npy").string() + " --output " + output.string());
  expect_one_line_error(result, weights.string() + ": missing tensor 'stages.1.0.conv_1x1.bn.running_var'");
  EXPECT_FALSE(fs::exists(output));
}

// Strict loading: a tensor the matched family has no place for fails the load (exit 2, one line).
TEST_F(CliTest, CheckpointWithATensorNoLayerUsesIsRejected) {
  vkvision::testing::TensorMap tensors =
      vkvision::testing::read_tensors(fixtures() / "convnext/timm.safetensors");
  tensors["head.extra.weight"] = vkvision::ir::HostTensor::from({2}, {1.0f, 2.0f});
  const fs::path weights = dir / "extra.safetensors", output = dir / "out.npy";
  vkvision::testing::write_safetensors(weights, tensors);
  auto result = run_cli("run --weights " + weights.string() + " --input " +
                        (fixtures() / "convnext/input.npy").string() + " --output " + output.string());
  expect_one_line_error(result, weights.string() +
                                    ": matched convnext (timm naming) but 1 of its tensors have "
                                    "no place in that model: head.extra.weight");
  EXPECT_FALSE(fs::exists(output));
}

TEST_F(CliTest, ConvNextV2CheckpointMissingAGrnTensorIsRejected) {
  vkvision::testing::TensorMap tensors =
      vkvision::testing::read_tensors(fixtures() / "convnextv2/timm.safetensors");
  ASSERT_EQ(tensors.erase("stages.0.blocks.0.mlp.grn.weight"), 1u);
  const fs::path weights = dir / "missing_grn.safetensors", output = dir / "out.npy";
  vkvision::testing::write_safetensors(weights, tensors);
  auto result = run_cli("run --weights " + weights.string() + " --input " +
                        (fixtures() / "convnextv2/input.npy").string() + " --output " + output.string());
  expect_one_line_error(result, weights.string() + ": missing tensor 'stages.0.blocks.0.mlp.grn.weight'");
  EXPECT_FALSE(fs::exists(output));
}

TEST_F(CliTest, MixerCheckpointWithATokenMlpOfTheWrongLengthIsRejected) {
  vkvision::testing::TensorMap tensors =
      vkvision::testing::read_tensors(fixtures() / "mlp/mixer_timm.safetensors");
  tensors["blocks.0.mlp_tokens.fc2.weight"] =
      vkvision::ir::HostTensor::from({48, 11}, std::vector<float>(48 * 11, 0.1f));
  const fs::path weights = dir / "wrong_tokens.safetensors", output = dir / "out.npy";
  vkvision::testing::write_safetensors(weights, tensors);
  auto result = run_cli("run --weights " + weights.string() + " --input " +
                        (fixtures() / "mlp/input28.npy").string() + " --output " + output.string());
  expect_one_line_error(result, weights.string() +
                                    ": tensor 'blocks.0.mlp_tokens.fc2.weight' has shape "
                                    "[48,11], expected [49,11]");
  EXPECT_FALSE(fs::exists(output));
}

TEST_F(CliTest, CheckpointOfNoKnownFamilyIsRejected) {
  const std::string header = R"({"encoder.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  std::string length(8, '\0');
  length[0] = char(header.size());
  const fs::path weights = write_file("other.safetensors", length + header + std::string(16, '\0'));
  auto result =
      run_cli("run --weights " + weights.string() + " --input " +
              (fixtures() / "convnext/input.npy").string() + " --output " + (dir / "out.npy").string());
  expect_one_line_error(result, "matches no supported model family");
}

TEST_F(CliTest, WrongInputShapeNamesTheInputFile) {
  vkvision::io::write_npy(dir / "bad.npy", {2, 5, 48, 48}, std::vector<float>(2 * 5 * 48 * 48));
  auto result = run_cli("run --weights " + (fixtures() / "convnext/timm.safetensors").string() + " --input " +
                        (dir / "bad.npy").string() + " --output " + (dir / "out.npy").string());
  expect_one_line_error(result, "bad.npy");
  EXPECT_FALSE(fs::exists(dir / "out.npy"));
}

TEST_F(CliTest, UndecodableImageNamesTheFile) {
  const fs::path image = write_file("broken.png", "\x89PNG\r\n\x1a\n not really");
  auto result = run_cli("classify --weights " + (fixtures() / "convnext/timm.safetensors").string() + " " +
                        image.string());
  expect_one_line_error(result, "broken.png");
}

TEST_F(CliTest, MissingWeightsFileIsAUsageError) {
  auto result = run_cli("run --weights " + (dir / "nope.pth").string() + " --input x.npy --output y.npy");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("nope.pth"), std::string::npos) << result.output;
}

TEST_F(CliTest, ModelsListsConvNextPresets) {
  auto result = run_cli("models");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* name : {"convnext_atto", "convnext_tiny", "convnext_xlarge"})
    EXPECT_NE(result.output.find(name), std::string::npos) << name;
}

TEST_F(CliTest, DevicesListsAtLeastOneDevice) {
  auto result = run_cli("devices");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("subgroup size"), std::string::npos) << result.output;
}

TEST_F(CliTest, ClassifiesTheBundledSamplesWithTheDefaultModel) {
  const fs::path samples = vkvision::testing::source_dir() / "samples";
  std::string arguments = "classify --top 1";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(samples))
    if (entry.path().extension() == ".png") arguments += " " + entry.path().string(), ++count;
  ASSERT_GT(count, 0);
  auto result = run_cli(arguments);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '%'), count) << result.output;
}

// Issue 11's hostile inputs through the real command: exit 2, one line naming the file, no output.
TEST_F(CliTest, HostileFilesAreRefusedInOneLineWithoutOutput) {
  const fs::path regressions = fs::path(VKVISION_TEST_SOURCE_DIR) / "fuzz" / "regressions";
  const fs::path weights = fixtures() / "repmlpnet" / "official_deploy.pth",
                 input = fixtures() / "repmlpnet" / "input.npy";
  const fs::path output = dir / "logits.npy";
  const std::vector<std::pair<fs::path, fs::path>> cases = {
      {weights, regressions / "npy" / "issue11_count_wraps.npy"},
      {weights, regressions / "npy" / "issue11_size_past_int64.npy"},
      {weights, regressions / "npy" / "issue11_raw_bytes_descr.npy"},
      {regressions / "torch_zip" / "issue11_extent_wraps.pth", input},
      {regressions / "torch_zip" / "issue11_newline_name.pth", input}};
  for (const auto& [checkpoint, batch] : cases) {
    const fs::path& culprit = checkpoint == weights ? batch : checkpoint;
    expect_one_line_error(run_cli("run --weights " + checkpoint.string() + " --input " + batch.string() +
                                  " --output " + output.string()),
                          "vkvision: error: " + culprit.string() + ": ");
    EXPECT_FALSE(fs::exists(output)) << culprit;
  }
}

TEST_F(CliTest, EmptySpatialMapNamesTheInputFile) {
  const fs::path input = dir / "empty.npy";
  vkvision::io::write_npy(input, {1, 3, 0, 0}, {});
  expect_one_line_error(
      run_cli("run --weights " + (fixtures() / "repmlpnet" / "official_deploy.pth").string() + " --input " +
              input.string() + " --output " + (dir / "out.npy").string()),
      input.string() + ": expected a square NCHW batch");
}

}  // namespace

// inspect shows the list after each named pass, and with --kernels the kernel family's passes on the
// device too.
TEST_F(CliTest, InspectShowsEveryNamedPassAndTheKernelFamilysPasses) {
  auto result = run_cli("inspect --model convnext_atto --size 32 --kernels register");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* pass :
       {"After batchnorm_to_affine", "After fuse_activation:", "After fuse_residual_add:",
        "After fuse_depthwise_layer_norm [register]:", "After defer_layer_norm_to_linear [register]"})
    EXPECT_NE(result.output.find(pass), std::string::npos) << pass << " missing from:\n" << result.output;
  EXPECT_NE(result.output.find("Sessions on this device run the register kernel family ("),
            std::string::npos);
  auto without_device = run_cli("inspect --model convnext_atto --size 32");
  ASSERT_EQ(without_device.exit_code, 0) << without_device.output;
  EXPECT_EQ(without_device.output.find("[register]"), std::string::npos);
  EXPECT_NE(without_device.output.find("After fold_patch_gather_into_linear"), std::string::npos);
}
