// Checkpoint readers: good files read exactly; malformed ones (made here from good ones) fail with
// an InputError that names the file, and never crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "io/checkpoint.h"
#include "io/pickle.h"
#include "support/paths.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) { return testing::fixtures_dir() / name; }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("vkvision_io_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return dir / name;
  }

  // Loading must fail with InputError whose message starts with the file's path and mentions `about`.
  void expect_rejected(const fs::path& path, const std::string& about) {
    try {
      io::Checkpoint::load(path);
      ADD_FAILURE() << path << " loaded";
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind(path.string(), 0), 0u) << message;
      EXPECT_NE(message.find(about), std::string::npos) << message;
    }
  }

  static void expect_reference_tensors(const io::Checkpoint& checkpoint) {
    const std::vector<float> weight = checkpoint.to_float("a.weight");
    ASSERT_EQ(weight.size(), 12u);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(weight[i], i / 8.0f);
    EXPECT_EQ(checkpoint.at("a.weight").shape, (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(checkpoint.at("a.half").dtype, io::DType::F16);
    EXPECT_EQ(checkpoint.at("a.bf16").dtype, io::DType::BF16);
    for (const char* name : {"a.half", "a.bf16"}) {
      const auto values = checkpoint.to_float(name);
      for (int i = 0; i < 6; ++i) EXPECT_EQ(values[i], i / 8.0f) << name;
    }
    // The transposed view [4, 3] with strides (1, 4) is read in logical order.
    const auto transposed = checkpoint.to_float("a.transposed");
    EXPECT_EQ(checkpoint.at("a.transposed").shape, (std::vector<int64_t>{4, 3}));
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(transposed[r * 3 + c], (c * 4 + r) / 8.0f);
    EXPECT_EQ(checkpoint.to_float("a.index"), (std::vector<float>{0, 1, 2, 3, 4}));
  }

  fs::path dir;
};

TEST_F(CheckpointTest, ReadsBareTorchStateDict) {
  const auto checkpoint = io::Checkpoint::load(fixture("io/bare.pth"));
  EXPECT_EQ(checkpoint.format(), "torch-zip");
  expect_reference_tensors(checkpoint);
}

TEST_F(CheckpointTest, UnwrapsModelDictNextToArgsNamespaceAndOptimizer) {
  const auto checkpoint = io::Checkpoint::load(fixture("io/wrapped_model.pth"));
  EXPECT_EQ(checkpoint.names().size(), 5u);
  expect_reference_tensors(checkpoint);
}

TEST_F(CheckpointTest, UnwrapsStateDictAndStripsModulePrefix) {
  expect_reference_tensors(io::Checkpoint::load(fixture("io/wrapped_state_dict.pth")));
}

TEST_F(CheckpointTest, ReadsSafetensorsWithMetadata) {
  const auto checkpoint = io::Checkpoint::load(fixture("convnext/timm.safetensors"));
  EXPECT_EQ(checkpoint.format(), "safetensors");
  EXPECT_EQ(checkpoint.at("stem.0.weight").shape, (std::vector<int64_t>{12, 3, 4, 4}));
  EXPECT_TRUE(checkpoint.contains("head.fc.bias"));
}

TEST_F(CheckpointTest, MissingTensorIsNamed) {
  const auto checkpoint = io::Checkpoint::load(fixture("io/bare.pth"));
  try {
    checkpoint.at("b.weight");
    FAIL();
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("missing tensor 'b.weight'"), std::string::npos);
  }
}

TEST_F(CheckpointTest, TruncatedFilesAreRejectedAtEveryCut) {
  for (const char* name : {"io/bare.pth", "convnext/timm.safetensors"}) {
    const std::string good = read_bytes(fixture(name));
    for (size_t cut : {size_t(0), size_t(3), size_t(9), good.size() / 3, good.size() / 2, good.size() - 1}) {
      const fs::path path = write("cut.bin", good.substr(0, cut));
      try {
        io::Checkpoint::load(path);
        ADD_FAILURE() << name << " cut at " << cut << " loaded";
      } catch (const InputError& error) {
        EXPECT_EQ(std::string(error.what()).rfind(path.string(), 0), 0u) << error.what();
      }
    }
  }
}

TEST_F(CheckpointTest, WrongMagicIsRejected) {
  expect_rejected(write("text.pth", "hello, this is not a checkpoint at all"),
                  "not a safetensors or PyTorch zip checkpoint");
}

std::string safetensors(const std::string& header, size_t data_bytes) {
  std::string length(8, '\0');
  for (int i = 0; i < 8; ++i) length[i] = char((header.size() >> (8 * i)) & 0xFF);
  return length + header + std::string(data_bytes, '\0');
}

TEST_F(CheckpointTest, SafetensorsHeaderLengthPastTheEndIsRejected) {
  std::string bytes = safetensors(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
  bytes[1] = 0x10;  // header length += 4096
  expect_rejected(write("long_header.safetensors", bytes), "header");
}

TEST_F(CheckpointTest, SafetensorsDataOffsetsPastTheEndAreRejected) {
  expect_rejected(write("offsets.safetensors",
                        safetensors(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8)),
                  "runs past the end");
}

TEST_F(CheckpointTest, SafetensorsUnknownDtypeIsRejected) {
  expect_rejected(write("dtype.safetensors",
                        safetensors(R"({"x":{"dtype":"F128","shape":[1],"data_offsets":[0,4]}})", 4)),
                  "unknown dtype");
}

TEST_F(CheckpointTest, SafetensorsShapeThatDisagreesWithTheBytesIsRejected) {
  expect_rejected(
      write("shape.safetensors", safetensors(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
      "needs 12");
}

TEST_F(CheckpointTest, SafetensorsHeaderThatIsNotJsonIsRejected) {
  expect_rejected(write("json.safetensors", safetensors("{not json at all", 0)), "not a JSON object");
}

TEST_F(CheckpointTest, ZipWithCompressedEntryIsRejected) {
  std::string bytes = read_bytes(fixture("io/bare.pth"));
  // Set the compression method of the first central-directory entry to deflate (8).
  const size_t central = bytes.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  bytes[central + 10] = 8;
  expect_rejected(write("deflated.pth", bytes), "compressed");
}

TEST_F(CheckpointTest, CorruptPickleIsRejected) {
  std::string bytes = read_bytes(fixture("io/bare.pth"));
  const size_t pickle = bytes.find("data.pkl");
  ASSERT_NE(pickle, std::string::npos);
  // The local header's data starts after its 30 fixed bytes, the name and the extra field.
  const size_t local = bytes.rfind("PK\x03\x04", pickle);
  const size_t name_length = uint8_t(bytes[local + 26]) | uint8_t(bytes[local + 27]) << 8;
  const size_t extra_length = uint8_t(bytes[local + 28]) | uint8_t(bytes[local + 29]) << 8;
  bytes[local + 30 + name_length + extra_length + 2] = char(0xFF);  // an opcode that does not exist
  expect_rejected(write("pickle.pth", bytes), "data.pkl");
}

// The crafted files of issue 11 (tools/make_fuzz_seeds.py writes them to fuzz/regressions/): each is
// refused with a one-line message naming the file and the problem, before anything is copied.
fs::path regression(const std::string& target, const std::string& name) {
  return fs::path(VKVISION_TEST_SOURCE_DIR) / "fuzz" / "regressions" / target / name;
}

TEST_F(CheckpointTest, ViewsWhoseExtentPassesTwoToTheSixtyFourAreRejected) {
  expect_rejected(regression("torch_zip", "issue11_extent_wraps.pth"),
                  "reaches element 4611686018427387904 of a storage of 4");
  expect_rejected(regression("torch_zip", "issue11_stride_overflow.pth"), "reaches element past 2^64");
}

TEST_F(CheckpointTest, BroadcastViewLargerThanTheFileIsRejectedBeforeCopying) {
  expect_rejected(regression("torch_zip", "issue11_stride0_broadcast.pth"), "more than the file's");
}

TEST_F(CheckpointTest, OffsetsAndStridesOutsideTheStorageAreRejected) {
  expect_rejected(regression("torch_zip", "issue11_offset_past_storage.pth"),
                  "reaches element 5 of a storage of 1");
  expect_rejected(regression("torch_zip", "issue11_negative_stride.pth"), "negative size or stride");
}

TEST_F(CheckpointTest, NamesWithControlBytesAreRejectedEscaped) {
  for (const auto& [target, name] : {std::pair{"torch_zip", "issue11_newline_name.pth"},
                                     std::pair{"safetensors", "issue11_control_name.safetensors"}}) {
    const fs::path path = regression(target, name);
    expect_rejected(path, "holds control bytes");
    try {
      io::Checkpoint::load(path);
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("\\x0a"), std::string::npos) << error.what();
    }
  }
}

TEST_F(CheckpointTest, DeeplyNestedPicklesAreRejectedWithoutRecursion) {
  // 100,000 levels: the old recursive value tree overflowed the stack here under ASan.
  for (const char* name :
       {"issue11_nested_tuples.pkl", "issue11_nested_lists.pkl", "issue11_nested_marks.pkl"}) {
    const std::string pickle = read_bytes(regression("pickle", name));
    EXPECT_THROW(io::pickle::load(std::as_bytes(std::span(pickle.data(), pickle.size()))), std::runtime_error)
        << name;
  }
}

TEST_F(CheckpointTest, SelfReferencingPickleLoadsAndFreesWithoutLeaking) {
  const std::string pickle = read_bytes(regression("pickle", "issue11_self_reference.pkl"));
  const io::pickle::Document document =
      io::pickle::load(std::as_bytes(std::span(pickle.data(), pickle.size())));
  const auto* list = std::get_if<io::pickle::List>(&document.root().data);
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0], &document.root());
}

TEST_F(CheckpointTest, SafetensorsShapesPastTwoToTheSixtyFourBytesAreRejected) {
  expect_rejected(regression("safetensors", "issue11_shape_bytes_wrap.safetensors"), "needs more than 2^64");
  expect_rejected(regression("safetensors", "issue11_deep_shape.safetensors"), "not a size");
}

TEST_F(CheckpointTest, InMemoryBytesParseLikeTheFile) {
  const std::string bytes = read_bytes(fixture("io/bare.pth"));
  const auto* begin = reinterpret_cast<const std::byte*>(bytes.data());
  expect_reference_tensors(
      io::Checkpoint::parse("memory.pth", std::vector<std::byte>(begin, begin + bytes.size())));
}

TEST_F(CheckpointTest, DirectoryIsNamedAsOne) { expect_rejected(dir, "is a directory"); }

}  // namespace
}  // namespace vkvision
