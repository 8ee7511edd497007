// Decoding and timm's eval transform against torchvision + PIL (tools/make_io_fixtures.py).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "io/image.h"
#include "io/npy.h"
#include "support/paths.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

std::filesystem::path fixture(const std::string& name) { return testing::fixtures_dir() / "io" / name; }

TEST(ImageTest, DecodesPngGreyAndRgb) {
  const io::Image rgb = io::decode_image(fixture("rgb_37x23.png"));
  EXPECT_EQ(rgb.width, 37);
  EXPECT_EQ(rgb.height, 23);
  EXPECT_EQ(rgb.channels, 3);
  const io::Image grey = io::decode_image(fixture("grey_50x64.png"));
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.pixels.size(), 50u * 64u);
}

TEST(ImageTest, MissingOrUndecodableFileNamesTheFile) {
  EXPECT_THROW(io::decode_image(fixture("nope.png")), InputError);
  try {
    io::decode_image(fixture("preprocess_cases.txt"));
    FAIL();
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("preprocess_cases.txt"), std::string::npos);
  }
}

TEST(ImageTest, EvalTransformMatchesTorchvisionOnPil) {
  std::ifstream listing(fixture("preprocess_cases.txt"));
  std::string line;
  int cases = 0;
  while (std::getline(listing, line)) {
    std::istringstream fields(line);
    std::string name, interpolation, expected_file;
    io::PreprocessConfig config;
    fields >> name >> config.input_size >> config.crop_pct >> interpolation >> config.channels >> expected_file;
    config.interpolation = interpolation == "bicubic" ? io::Interpolation::Bicubic : io::Interpolation::Bilinear;
    config.mean.resize(config.channels);
    config.std.resize(config.channels);
    const auto actual = io::preprocess(io::decode_image(fixture(name)), config);
    const auto expected = io::read_npy(fixture(expected_file));
    ASSERT_EQ(actual.size(), expected.data.size()) << line;
    // PNG: the same uint8 pixels after PIL's fixed-point resampling, so only the final float
    // division and normalisation can differ: 1e-5. JPEG: stb_image's IDCT and chroma upsampling
    // are not libjpeg's, so pixels may differ by a few levels: 8/255 over the smallest std (0.224).
    const bool jpeg = name.ends_with(".jpg");
    const float tolerance = jpeg ? 8.0f / 255.0f / 0.224f : 1e-5f;
    float worst = 0;
    for (size_t i = 0; i < actual.size(); ++i) worst = std::max(worst, std::abs(actual[i] - expected.data[i]));
    EXPECT_LE(worst, tolerance) << line;
    ++cases;
  }
  EXPECT_EQ(cases, 6);
}

}  // namespace
}  // namespace vkvision
