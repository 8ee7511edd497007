#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/npy.h"
#include "support/paths.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

namespace fs = std::filesystem;

TEST(NpyTest, RoundTripsShapesOfEveryRank) {
  const fs::path path = fs::temp_directory_path() / "vkvision_roundtrip.npy";
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{}, {5}, {2, 3}, {2, 1, 3, 2}}) {
    std::vector<float> data(1);
    for (int64_t d : shape) data.resize(data.size() * d);
    for (size_t i = 0; i < data.size(); ++i) data[i] = float(i) * 0.5f - 1.0f;
    io::write_npy(path, shape, data);
    const auto back = io::read_npy(path);
    EXPECT_EQ(back.shape, shape);
    EXPECT_EQ(back.data, data);
  }
  EXPECT_FALSE(fs::exists(path.string() + ".partial"));
  fs::remove(path);
}

TEST(NpyTest, ReadsWhatNumpyWrote) {
  const auto input = io::read_npy(testing::fixtures_dir() / "convnext" / "input.npy");
  EXPECT_EQ(input.shape, (std::vector<int64_t>{2, 3, 48, 48}));
  EXPECT_EQ(input.data.size(), 2u * 3 * 48 * 48);
}

TEST(NpyTest, MalformedFilesNameTheFile) {
  const fs::path path = fs::temp_directory_path() / "vkvision_bad.npy";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not numpy", "bad magic"},
      {std::string("\x93NUMPY\x01\x00\x39\x00", 10) +
           "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
       "not float32"},
      {std::string("\x93NUMPY\x01\x00\x41\x00", 10) +
           "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }       \n",
       "data bytes"},
      {std::string("\x93NUMPY\x01\x00\xff\x00", 10) + "{}", "truncated"}};
  for (const auto& [bytes, about] : cases) {
    std::ofstream(path, std::ios::binary) << bytes;
    try {
      io::read_npy(path);
      ADD_FAILURE() << about;
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()).rfind(path.string(), 0), 0u) << error.what();
      EXPECT_NE(std::string(error.what()).find(about), std::string::npos) << error.what();
    }
  }
  fs::remove(path);
}

// The crafted headers of issue 11 (tools/make_fuzz_seeds.py): refused in one line naming the file.
TEST(NpyTest, HostileHeadersAreRejectedInOneLine) {
  const fs::path regressions = fs::path(VKVISION_TEST_SOURCE_DIR) / "fuzz" / "regressions" / "npy";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"issue11_many_dimensions.npy", "more than 32 dimensions"},
      {"issue11_count_wraps.npy", "shape needs more than 2^64"},
      {"issue11_size_past_int64.npy", "size past 2^63"},
      {"issue11_raw_bytes_descr.npy", "dtype '<f4\\x0a\\x01\\x7f' is not float32"}};
  for (const auto& [name, about] : cases) {
    const fs::path path = regressions / name;
    try {
      io::read_npy(path);
      ADD_FAILURE() << name << " was read";
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind(path.string(), 0), 0u) << message;
      EXPECT_NE(message.find(about), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(NpyTest, HeaderKeysAreCheckedLikeNumpy) {
  const fs::path path = fs::temp_directory_path() / "vkvision_keys.npy";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{'descr': '<f4', 'shape': (1,), }", "lacks descr, fortran_order or shape"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "repeated key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "Fortran-order"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "other than sizes"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected '}'"}};
  for (const auto& [header, about] : cases) {
    std::string bytes =
        std::string("\x93NUMPY\x01\x00", 8) + char(header.size()) + '\0' + header + std::string(4, '\0');
    std::ofstream(path, std::ios::binary) << bytes;
    try {
      io::read_npy(path);
      ADD_FAILURE() << header;
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(about), std::string::npos) << error.what();
    }
  }
  fs::remove(path);
}

}  // namespace
}  // namespace vkvision
