// NumPy .npy v1/v2/v3: magic "\x93NUMPY", version, header length, a Python-literal dict header
// ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }), then the raw data.
#include "io/npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string_view>

#include "io/mapped_file.h"
#include "io/untrusted.h"
#include "vkvision/error.h"

namespace vkvision::io {

namespace {

constexpr size_t kMaxDimensions = 32;  // NumPy's own NPY_MAXDIMS (1.x)

// The header is a Python dict literal, parsed by hand: exactly the keys descr (a string),
// fortran_order (True/False) and shape (a tuple of non-negative integers), as numpy.lib.format reads it.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  void parse(std::string& descr, bool& fortran_order, std::vector<int64_t>& shape) {
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (!accept('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr" && !has_descr) {
        descr = string_literal(), has_descr = true;
      } else if (key == "fortran_order" && !has_order) {
        fortran_order = boolean(), has_order = true;
      } else if (key == "shape" && !has_shape) {
        shape = tuple(), has_shape = true;
      } else {
        fail("unexpected or repeated key '" + printable(key) + "'");
      }
      if (!accept(',')) {
        expect('}');
        break;
      }
    }
    if (!has_descr || !has_order || !has_shape) fail("lacks descr, fortran_order or shape");
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(file_ + ": .npy header " + problem);
  }
  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  bool accept(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) return ++at_, true;
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "' at byte " + std::to_string(at_));
  }
  std::string string_literal() {
    skip_space();
    if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"'))
      fail("expected a string at byte " + std::to_string(at_));
    const char quote = text_[at_++];
    const size_t end = text_.find(quote, at_);
    if (end == std::string_view::npos) fail("has an unterminated string");
    std::string value(text_.substr(at_, end - at_));
    at_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] :
         {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}})
      if (text_.substr(at_, word.size()) == word) return at_ += word.size(), value;
    fail("fortran_order is not True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!accept(')')) {
      skip_space();
      if (at_ >= text_.size() || text_[at_] < '0' || text_[at_] > '9')
        fail("shape holds something other than sizes");
      uint64_t value = 0;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
        const auto next = checked_mul(value, 10);
        const auto sum = next ? checked_add(*next, uint64_t(text_[at_] - '0')) : std::nullopt;
        if (!sum || *sum > uint64_t(INT64_MAX)) fail("shape has a size past 2^63");
        value = *sum, ++at_;
      }
      if (dims.size() == kMaxDimensions)
        fail("shape has more than " + std::to_string(kMaxDimensions) + " dimensions");
      dims.push_back(int64_t(value));
      if (!accept(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }

  std::string_view text_;
  const std::string& file_;
  size_t at_ = 0;
};

}  // namespace

NpyArray read_npy(const std::filesystem::path& path) {
  const MappedFile file(path);
  return parse_npy(path, file.bytes());
}

NpyArray parse_npy(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  const std::string file = path.string();
  auto fail = [&](const std::string& problem) { throw InputError(file + ": " + problem); };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    fail("not a .npy file (bad magic)");
  const int major = std::to_integer<int>(bytes[6]);
  size_t header_length = 0, header_start = 0;
  if (major == 1) {
    header_length = std::to_integer<size_t>(bytes[8]) | std::to_integer<size_t>(bytes[9]) << 8;
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("truncated .npy header");
    for (int i = 3; i >= 0; --i) header_length = header_length << 8 | std::to_integer<size_t>(bytes[8 + i]);
    header_start = 12;
  } else {
    fail("unsupported .npy version " + std::to_string(major));
  }
  if (header_length > bytes.size() - header_start)
    fail("truncated: .npy header runs past the end of the file");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + header_start), header_length);
  std::string descr;
  bool fortran_order = false;
  NpyArray array;
  HeaderParser(header, file).parse(descr, fortran_order, array.shape);
  if (descr != "<f4" && descr != "<f8")
    fail("dtype '" + printable(descr) + "' is not float32 or float64 (little-endian)");
  if (fortran_order) fail("Fortran-order arrays are not supported");
  const uint64_t element = descr == "<f4" ? 4 : 8, data_start = header_start + header_length,
                 data_bytes = bytes.size() - data_start;
  std::optional<uint64_t> needed = element;
  for (int64_t dim : array.shape)
    if (needed) needed = checked_mul(*needed, uint64_t(dim));
  if (!needed || *needed != data_bytes)
    fail("holds " + std::to_string(data_bytes) + " data bytes, shape needs " +
         (needed ? std::to_string(*needed) : std::string("more than 2^64")));
  const size_t count = *needed / element;
  array.data.resize(count);
  const std::byte* data = bytes.data() + data_start;
  if (count == 0) {
    // nothing to copy (and memcpy must not see the empty vector's null data())
  } else if (element == 4) {
    std::memcpy(array.data.data(), data, count * 4);
  } else {
    for (size_t i = 0; i < count; ++i) {
      double v;
      std::memcpy(&v, data + 8 * i, 8);
      array.data[i] = float(v);
    }
  }
  return array;
}

void write_npy(const std::filesystem::path& path, const std::vector<int64_t>& shape,
               const std::vector<float>& data) {
  // Python tuple syntax: "(2, 3)", "(5,)", "()".
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  const std::filesystem::path temporary = path.string() + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path.string() + ": cannot write");
    const uint16_t length = uint16_t(header.size());
    out.write("\x93NUMPY\x01\x00", 8);
    out.put(char(length & 0xFF)).put(char(length >> 8));
    out << header;
    out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size() * sizeof(float)));
    if (!out) {
      out.close();
      std::filesystem::remove(temporary);
      throw InputError(path.string() + ": write failed");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary);
    throw InputError(path.string() + ": cannot write: " + error.message());
  }
}

}  // namespace vkvision::io
