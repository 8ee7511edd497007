#include <filesystem>
#include <fstream>

#include "support/device_test.h"
#include "support/test_directory.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::DeviceTest;

class PipelineCacheTest : public DeviceTest {
 protected:
  // elementwise.comp: constant 0 is the mode, three storage buffers.
  static vk::PipelineKey elementwise_key(int32_t mode) { return {vk::ShaderId::elementwise, {mode}, 3, 0}; }

  testing::TestDirectory directory_storage_{"vkvision-test"};
  const std::filesystem::path& directory_ = directory_storage_.path();
};

TEST_F(PipelineCacheTest, SameKeyReturnsTheSamePipeline) {
  const vk::Pipeline& first = pipelines().get(elementwise_key(1));
  const vk::Pipeline& second = pipelines().get(elementwise_key(1));
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(first.pipeline, second.pipeline);
  EXPECT_NE(first.pipeline, VK_NULL_HANDLE);
  EXPECT_EQ(first.buffer_count, 3u);
}

TEST_F(PipelineCacheTest, DifferentSpecialisationGivesADifferentPipeline) {
  const vk::Pipeline& add = pipelines().get(elementwise_key(1));
  const vk::Pipeline& relu = pipelines().get(elementwise_key(3));
  EXPECT_NE(&add, &relu);
  EXPECT_NE(add.pipeline, relu.pipeline);
  // A different binding count is a different layout, hence a different pipeline too.
  const vk::Pipeline& four = pipelines().get({vk::ShaderId::elementwise, {1}, 4, 0});
  EXPECT_NE(four.pipeline, add.pipeline);
  EXPECT_NE(four.set_layout, add.set_layout);
}

TEST_F(PipelineCacheTest, SaveWritesTheCacheFileIntoTheGivenDirectory) {
  vk::PipelineCache cache(context_ptr(), directory_);
  EXPECT_EQ(cache.file().parent_path(), directory_);
  EXPECT_EQ(cache.file().filename().string().rfind("pipelines-", 0), 0u) << cache.file();
  EXPECT_FALSE(std::filesystem::exists(cache.file()));  // nothing is written before save()
  cache.get(elementwise_key(0));
  cache.save();  // creates the directory too
  ASSERT_TRUE(std::filesystem::exists(cache.file())) << cache.file();
  EXPECT_GT(std::filesystem::file_size(cache.file()), 0u);
  EXPECT_FALSE(std::filesystem::exists(cache.file().string() + ".tmp"));
}

TEST_F(PipelineCacheTest, CacheFileNameDependsOnTheDevicesPipelineCacheUuid) {
  vk::PipelineCache cache(context_ptr(), directory_);
  std::string uuid_hex;
  char digits[3];
  for (uint8_t byte : device().pipeline_cache_uuid) {
    std::snprintf(digits, sizeof digits, "%02x", byte);
    uuid_hex += digits;
  }
  EXPECT_NE(cache.file().filename().string().find(uuid_hex), std::string::npos) << cache.file();
}

TEST_F(PipelineCacheTest, DestructorSavesAndANewCacheLoadsTheFile) {
  std::filesystem::path file;
  {
    vk::PipelineCache cache(context_ptr(), directory_);
    cache.get(elementwise_key(2));
    file = cache.file();
  }
  ASSERT_TRUE(std::filesystem::exists(file));
  vk::PipelineCache reloaded(context_ptr(), directory_);
  EXPECT_EQ(reloaded.file(), file);
  EXPECT_NE(reloaded.get(elementwise_key(2)).pipeline, VK_NULL_HANDLE);
}

TEST_F(PipelineCacheTest, CorruptCacheFileIsIgnored) {
  std::filesystem::path file;
  {
    vk::PipelineCache probe(context_ptr(), directory_);
    file = probe.file();
  }
  std::filesystem::create_directories(directory_);
  {
    std::ofstream out(file, std::ios::binary);
    out << "not a pipeline cache, just some bytes that are long enough to look like a header";
  }
  vk::PipelineCache cache(context_ptr(), directory_);
  EXPECT_NE(cache.get(elementwise_key(0)).pipeline, VK_NULL_HANDLE);
}

// A shader that is not embedded is a compile error (vk::ShaderId); an id past the last one throws.
TEST_F(PipelineCacheTest, UnknownShaderIdThrows) {
  try {
    pipelines().get({vk::ShaderId::count, {}, 1, 0});
    FAIL() << "an unknown shader id did not throw";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no embedded shader"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace vkvision
