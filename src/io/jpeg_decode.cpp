#include "io/jpeg_decode.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstdio>

#include <jpeglib.h>

#include <csetjmp>
#include <string>

#include "vkvision/error.h"

namespace vkvision::io {
namespace {

constexpr int kMaxScans = 1000;

// libjpeg reports errors through a callback that must not return: it jumps back into the step
// that called libjpeg, which returns false. Warnings (corrupt data it decodes around) are not
// printed: this runs inside other programs.
struct Decoder {
  jpeg_decompress_struct info{};
  jpeg_error_mgr errors{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX]{};

  ~Decoder() { jpeg_destroy_decompress(&info); }
};

Decoder& decoder_of(j_common_ptr info) { return *static_cast<Decoder*>(info->client_data); }

[[noreturn]] void on_error(j_common_ptr info) {
  info->err->format_message(info, decoder_of(info).message);
  std::longjmp(decoder_of(info).jump, 1);
}

void on_message(j_common_ptr, int) {}

// A progressive JPEG of a few kilobytes can hold thousands of scans, each a pass over the image.
void on_progress(j_common_ptr info) {
  if (reinterpret_cast<j_decompress_ptr>(info)->input_scan_number <= kMaxScans) return;
  std::snprintf(decoder_of(info).message, JMSG_LENGTH_MAX, "more than %d progressive scans", kMaxScans);
  std::longjmp(decoder_of(info).jump, 1);
}

// The steps that call libjpeg hold no object with a destructor and change no local after setjmp.
bool read_header(Decoder& d, std::span<const std::byte> jpeg) {
  d.info.err = jpeg_std_error(&d.errors);
  d.errors.error_exit = on_error;
  d.errors.emit_message = on_message;
  d.progress.progress_monitor = on_progress;
  d.info.client_data = &d;
  if (setjmp(d.jump)) return false;
  jpeg_create_decompress(&d.info);  // keeps err and client_data
  d.info.progress = &d.progress;
  jpeg_mem_src(&d.info, reinterpret_cast<const unsigned char*>(jpeg.data()),
               static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&d.info, TRUE);
  return true;
}

bool read_pixels(Decoder& d, uint8_t* pixels, size_t row_bytes) {
  if (setjmp(d.jump)) return false;
  jpeg_start_decompress(&d.info);
  while (d.info.output_scanline < d.info.output_height) {
    JSAMPROW row = pixels + size_t(d.info.output_scanline) * row_bytes;
    jpeg_read_scanlines(&d.info, &row, 1);
  }
  jpeg_finish_decompress(&d.info);
  return true;
}

}  // namespace

Image decode_jpeg(std::span<const std::byte> jpeg, const std::string& name,
                  const std::function<void(int64_t width, int64_t height)>& check_size) {
  Decoder d;
  const auto corrupt = [&] { return InputError(name + ": corrupt JPEG (" + d.message + ")"); };
  if (!read_header(d, jpeg)) throw corrupt();
  const int64_t width = d.info.image_width, height = d.info.image_height;
  check_size(width, height);
  if (d.info.jpeg_color_space == JCS_CMYK || d.info.jpeg_color_space == JCS_YCCK)
    throw InputError(name + ": CMYK JPEG is not supported (RGB and greyscale JPEG are)");
  Image image;
  image.width = int(width);
  image.height = int(height);
  image.channels = d.info.num_components == 1 ? 1 : 3;
  d.info.out_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  image.pixels.resize(size_t(width) * size_t(height) * size_t(image.channels));
  if (!read_pixels(d, image.pixels.data(), size_t(width) * size_t(image.channels))) throw corrupt();
  return image;
}

}  // namespace vkvision::io
