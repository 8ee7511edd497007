#include <gtest/gtest.h>

#include "io/fashion_mnist.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

TEST(FashionMnistTest, TestSplitHasTenThousandLabelledImages) {
  const auto set = io::read_fashion_mnist(io::kFashionMnistDir, "t10k");
  EXPECT_EQ(set.count, 10000);
  EXPECT_EQ(set.rows, 28);
  EXPECT_EQ(set.cols, 28);
  EXPECT_EQ(set.pixels.size(), 10000u * 28 * 28);
  for (uint8_t label : set.labels) ASSERT_LT(label, 10);
}

TEST(FashionMnistTest, MissingFolderNamesTheFile) {
  try {
    io::read_fashion_mnist("/nonexistent", "t10k");
    FAIL();
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/t10k-images-idx3-ubyte.gz"), std::string::npos);
  }
}

}  // namespace
}  // namespace vkvision
