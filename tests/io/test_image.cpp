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

// The InputError message decoding `path` raises, or "" when it decodes.
std::string decode_error(const std::filesystem::path& path, const io::ImageLimits& limits = {}) {
  try {
    io::decode_image(path, limits);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(ImageTest, DecodesPngGreyAndRgb) {
  const io::Image rgb = io::decode_image(fixture("rgb_37x23.png"));
  EXPECT_EQ(rgb.width, 37);
  EXPECT_EQ(rgb.height, 23);
  EXPECT_EQ(rgb.channels, 3);
  const io::Image grey = io::decode_image(fixture("grey_50x64.png"));
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.pixels.size(), 50u * 64u);
}

TEST(ImageTest, DecodesProgressiveGreyJpeg) {
  const io::Image grey = io::decode_image(fixture("grey_progressive_9x7.jpg"));
  EXPECT_EQ(grey.width, 9);
  EXPECT_EQ(grey.height, 7);
  EXPECT_EQ(grey.channels, 1);
}

TEST(ImageTest, DropsAlphaAndExpandsPalettes) {
  EXPECT_EQ(io::decode_image(fixture("rgba_7x5.png")).channels, 3);
  EXPECT_EQ(io::decode_image(fixture("la_7x5.png")).channels, 1);
  EXPECT_EQ(io::decode_image(fixture("palette_9x6.png")).channels, 3);
}

TEST(ImageTest, MissingOrUndecodableFileNamesTheFile) {
  EXPECT_NE(decode_error(fixture("nope.png")).find("nope.png: cannot open"), std::string::npos);
  const std::string text = fixture("preprocess_cases.txt").string();
  EXPECT_EQ(decode_error(text),
            text + ": not a JPEG or PNG image (unrecognised signature); JPEG and PNG are supported");
}

TEST(ImageTest, DirectoryIsNamedAsOne) {
  const std::string directory = fixture("").parent_path().string();
  EXPECT_EQ(decode_error(directory), directory + ": is a directory");
}

TEST(ImageTest, OtherFormatsAreRefusedByName) {
  for (const char* name : {"tiny.gif", "tiny.bmp"}) {
    const std::string path = fixture(name).string();
    const std::string format = std::string(name).ends_with(".gif") ? "GIF" : "BMP";
    EXPECT_EQ(decode_error(path),
              path + ": unsupported image format " + format + "; JPEG and PNG are supported");
  }
}

TEST(ImageTest, SizeLimitsAreCheckedBeforeDecoding) {
  // A 69-byte file claiming 100,000 x 100,000 RGB pixels (30 GB decoded).
  const std::string bomb = fixture("bomb_100000x100000.png").string();
  EXPECT_EQ(decode_error(bomb),
            bomb + ": image is 100000 x 100000 pixels; up to 67108864 pixels are accepted");
  // grey_50x64.png is 3,200 pixels with a longest side of 64: each limit is inclusive.
  const std::filesystem::path grey = fixture("grey_50x64.png");
  EXPECT_EQ(decode_error(grey, {.max_side = 64, .max_pixels = 3200}), "");
  EXPECT_NE(decode_error(grey, {.max_side = 63, .max_pixels = 3200}).find("sides up to 63 are accepted"),
            std::string::npos);
  EXPECT_NE(decode_error(grey, {.max_side = 64, .max_pixels = 3199}).find("up to 3199 pixels"),
            std::string::npos);
}

TEST(ImageTest, DecodesFromMemoryUnderTheGivenName) {
  std::ifstream in(fixture("grey_28x28.png"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
  EXPECT_EQ(io::decode_image(span, "memory").width, 28);
  try {
    io::decode_image(span.first(40), "memory");  // the header survives, the pixels do not
    FAIL();
  } catch (const InputError& error) {
    EXPECT_TRUE(std::string(error.what()).starts_with("memory: cannot decode image (")) << error.what();
  }
}

// Inputs the fuzzer found that stb_image 2.27 mishandled (fuzz/regressions/image: two bytes of
// transform choice, then the file): JPEG is now libjpeg-turbo's, PNG keeps a check stb needs.
TEST(ImageTest, FilesStbMishandledAreRefusedWithTheirProblem) {
  const auto error_for = [](const std::string& name) -> std::string {
    std::ifstream in(testing::source_dir() / "fuzz" / "regressions" / "image" / name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_GT(bytes.size(), 2u) << name;
    try {
      io::decode_image(std::as_bytes(std::span(bytes.data(), bytes.size())).subspan(2), "x");
    } catch (const InputError& error) {
      return error.what();
    }
    return "";
  };
  // stb wrote this table's 3,096 code lengths into a 257-entry array.
  EXPECT_EQ(error_for("jpeg_dht_over_256_codes"), "x: corrupt JPEG (Bogus Huffman table definition)");
  // stb read this undefined table from uninitialised memory.
  EXPECT_EQ(error_for("jpeg_scan_uses_undefined_huffman_table"),
            "x: corrupt JPEG (Huffman table 0x01 was not defined)");
  // stb copied this empty chunk to a null pointer.
  EXPECT_EQ(error_for("png_empty_first_idat"), "x: corrupt PNG: the first IDAT chunk is empty");
  // stb allocated 2 GiB for the 1,140,850,774 bytes this chunk claims.
  EXPECT_EQ(error_for("png_idat_length_past_the_end"),
            "x: corrupt PNG: an IDAT chunk of 1140850774 bytes runs past the end of the file");
  // stb's own message would carry the chunk type's bytes, here a newline.
  EXPECT_EQ(error_for("png_unknown_chunk_newline_in_message"),
            "x: cannot decode image (PNG not supported: unknown PNG chunk type)");
}

// Every line of `listing`: file, input_size, crop_pct, interpolation, channels, expected .npy.
int expect_listing_matches(const std::string& listing_name) {
  std::ifstream listing(fixture(listing_name));
  std::string line;
  int cases = 0;
  while (std::getline(listing, line)) {
    std::istringstream fields(line);
    std::string name, interpolation, expected_file;
    io::PreprocessConfig config;
    fields >> name >> config.input_size >> config.crop_pct >> interpolation >> config.channels >>
        expected_file;
    config.interpolation =
        interpolation == "bicubic" ? io::Interpolation::Bicubic : io::Interpolation::Bilinear;
    config.mean.resize(config.channels);
    config.std.resize(config.channels);
    const auto actual = io::preprocess(io::decode_image(fixture(name)), config);
    const auto expected = io::read_npy(fixture(expected_file));
    EXPECT_EQ(actual.size(), expected.data.size()) << line;
    if (actual.size() != expected.data.size()) continue;
    // The same uint8 pixels as PIL after its fixed-point resampling (JPEG is decoded by the
    // libjpeg-turbo PIL uses), so only the final float division and normalisation can differ: 1e-5.
    const float tolerance = 1e-5f;
    float worst = 0;
    for (size_t i = 0; i < actual.size(); ++i)
      worst = std::max(worst, std::abs(actual[i] - expected.data[i]));
    EXPECT_LE(worst, tolerance) << line;
    ++cases;
  }
  return cases;
}

TEST(ImageTest, EvalTransformMatchesTorchvisionOnPil) {
  EXPECT_EQ(expect_listing_matches("preprocess_cases.txt"), 6);
}

// Shapes far from square, downscales with wide filters, alpha and palettes (PIL's resize and crop).
TEST(ImageTest, EvalTransformMatchesPilOnExtremeShapes) {
  EXPECT_EQ(expect_listing_matches("preprocess_pil_cases.txt"), 8);
}

// The 1 x 2,000,000 strip, black but for 20 white rows at its centre, with an RGB model at
// 224: resized it would be 256 x 512,000,000 (393 GB). The crop's 224 rows are 224 / 256 of a source
// row and the bicubic support 2 source rows, so the crop reads 5 rows at most, all white if the crop
// is centred (a crop more than 8 rows off-centre would read black).
TEST(ImageTest, ExtremeStripCropsWithoutResizingEverything) {
  const io::Image strip = io::decode_image(fixture("strip_1x2000000.png"));
  ASSERT_EQ(strip.height, 2000000);
  const io::PreprocessConfig config;  // 224, crop_pct 0.875, bicubic, RGB, ImageNet mean/std
  const std::vector<float> chw = io::preprocess(strip, config);
  const size_t plane = size_t(config.input_size) * config.input_size;
  ASSERT_EQ(chw.size(), 3 * plane);
  for (size_t i = 0; i < chw.size(); ++i)
    ASSERT_EQ(chw[i], (1.0f - config.mean[i / plane]) / config.std[i / plane]) << i;
}

TEST(ImageTest, ConfigOutOfRangeIsAnInputError) {
  const io::Image grey = io::decode_image(fixture("grey_28x28.png"));
  io::PreprocessConfig config;
  config.crop_pct = 1.5f;
  EXPECT_THROW(io::preprocess(grey, config), InputError);
  config.crop_pct = 1e-30f;  // floor(224 / crop_pct) would not fit any integer
  EXPECT_THROW(io::preprocess(grey, config), InputError);
  config = {};
  config.mean.pop_back();
  EXPECT_THROW(io::preprocess(grey, config), InputError);
}

}  // namespace
}  // namespace vkvision
