// NumPy .npy v1/v2/v3: magic "\x93NUMPY", version, header length, a Python-literal dict header
// ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }), then the raw data.
#include "io/npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>

#include "io/mapped_file.h"
#include "vkvision/error.h"

namespace vkvision::io {

NpyArray read_npy(const std::filesystem::path& path) {
  const MappedFile file(path);
  const auto bytes = file.bytes();
  auto fail = [&](const std::string& problem) { throw InputError(path.string() + ": " + problem); };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) fail("not a .npy file (bad magic)");
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
  if (header_length > bytes.size() - header_start) fail("truncated: .npy header runs past the end of the file");
  const std::string header(reinterpret_cast<const char*>(bytes.data() + header_start), header_length);
  std::smatch match;
  if (!std::regex_search(header, match, std::regex(R"('descr'\s*:\s*'([^']*)')"))) fail(".npy header has no descr");
  const std::string descr = match[1];
  if (descr != "<f4" && descr != "<f8") fail("dtype " + descr + " is not float32 or float64 (little-endian)");
  if (std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)"))) fail("Fortran-order arrays are not supported");
  if (!std::regex_search(header, match, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) fail(".npy header has no shape");
  NpyArray array;
  const std::string dims = match[1];
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    array.shape.push_back(std::stoll(it->str()));
  size_t count = 1;
  for (int64_t dim : array.shape) count *= size_t(dim);
  const size_t element = descr == "<f4" ? 4 : 8, data_start = header_start + header_length;
  if (bytes.size() - data_start != count * element)
    fail("holds " + std::to_string(bytes.size() - data_start) + " data bytes, shape needs " + std::to_string(count * element));
  array.data.resize(count);
  const std::byte* data = bytes.data() + data_start;
  for (size_t i = 0; i < count; ++i) {
    if (element == 4) {
      std::memcpy(&array.data[i], data + 4 * i, 4);
    } else {
      double v;
      std::memcpy(&v, data + 8 * i, 8);
      array.data[i] = float(v);
    }
  }
  return array;
}

void write_npy(const std::filesystem::path& path, const std::vector<int64_t>& shape, const std::vector<float>& data) {
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
