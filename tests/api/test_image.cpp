// The public CPU image path (vkvision/image.h, Session::preprocess) is the CLI's: io::decode_image
// and io::preprocess with the one Preprocessing -> PreprocessConfig mapping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "api/api_test.h"
#include "api/preprocess_config.h"
#include "io/image.h"
#include "vkvision/image.h"

namespace vkvision::testing {
namespace {

std::vector<std::filesystem::path> samples() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "samples"))
    if (entry.path().extension() == ".png") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

Model bundled_model() { return Model::load(source_dir() / "models" / "convnext_fmnist.safetensors"); }

TEST(PublicImage, PreprocessIsTheCpuPathsOnTheSamples) {
  const Preprocessing bundled = bundled_model().info().preprocessing;
  Preprocessing imagenet;  // the defaults: 224, bicubic, crop 0.875, ImageNet mean and std
  Preprocessing bilinear = imagenet;
  bilinear.interpolation = "bilinear";
  ASSERT_FALSE(samples().empty());
  for (const auto& path : samples()) {
    const Image image = decode_image(path);
    const io::Image reference = io::decode_image(path);
    ASSERT_EQ(image.pixels, reference.pixels) << path;
    for (const Preprocessing& preprocessing : {bundled, imagenet, bilinear})
      EXPECT_TRUE(bitwise_equal(preprocess(image, preprocessing),
                                io::preprocess(reference, detail::preprocess_config(preprocessing))))
          << path << " " << preprocessing.interpolation << " " << preprocessing.input_size;
    // input_size overrides the preprocessing's; crop_pct stays.
    Preprocessing larger = bundled;
    larger.input_size = 40;
    EXPECT_TRUE(bitwise_equal(preprocess(image, bundled, 40),
                              io::preprocess(reference, detail::preprocess_config(larger))));
  }
}

TEST(PublicImage, DecodeFromBytesEqualsDecodeFromFile) {
  const std::filesystem::path path = samples().front();
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  const Image from_bytes = decode_image(bytes, "sample");
  const Image from_file = decode_image(path);
  EXPECT_EQ(from_bytes.width, from_file.width);
  EXPECT_EQ(from_bytes.channels, from_file.channels);
  EXPECT_EQ(from_bytes.pixels, from_file.pixels);
  EXPECT_THROW(decode_image(std::span<const std::byte>(bytes.data(), 10), "cut"), InputError);
}

TEST(PublicImage, PreprocessRefusesBadImagesAndPreprocessings) {
  const Image image{2, 2, 3, std::vector<uint8_t>(12, 7)};
  EXPECT_NO_THROW(preprocess(image, Preprocessing{}));
  EXPECT_THROW(preprocess(Image{2, 2, 3, std::vector<uint8_t>(11)}, Preprocessing{}), InputError);
  EXPECT_THROW(preprocess(Image{2, 2, 4, std::vector<uint8_t>(16)}, Preprocessing{}), InputError);
  EXPECT_THROW(preprocess(Image{0, 2, 3, {}}, Preprocessing{}), InputError);
  Preprocessing nearest;
  nearest.interpolation = "nearest";
  EXPECT_THROW(preprocess(image, nearest), InputError);
  Preprocessing four_channels;
  four_channels.channels = 4;
  EXPECT_THROW(preprocess(image, four_channels), InputError);
}

TEST(PublicImage, SessionPreprocessUsesItsInputSize) {
  auto runtime = validated_runtime();
  const Model model = bundled_model();
  const Image image = decode_image(samples().front());
  Session session(runtime, model, {.batch = 1, .input_size = 32});
  EXPECT_TRUE(bitwise_equal(session.preprocess(image), preprocess(image, model.info().preprocessing, 32)));
  expect_no_validation_messages(*runtime);
}

}  // namespace
}  // namespace vkvision::testing
