// PIL's fixed-point dot product (22 fractional bits, rounded, clipped to 8 bits) exact in 32-bit
// integers, so no device needs shaderInt64. The sum is held as hi * 2^16 + lo with lo in [0, 2^16):
// each weight splits into w = wh * 2^16 + wl (wl = w & 0xffff, wh = w >> 16, arithmetic), v * wl <
// 2^24 and |v * wh| < 2^23 cannot overflow, and the carry out of lo moves into hi after every tap.
// hi = floor(sum / 2^16) fits in int32 while |sum| < 2^47; the host checks 2^21 + 255 * sum|w| <
// 2^47 for every position when it builds the tables (real filters give about 1.2 * 2^22 * 255).
// The result, floor(sum / 2^22), is hi >> 6.
#define IMAGE_RESAMPLE_PRECISION_BITS 22

struct ExactSum {
  int hi;
  int lo;
};

ExactSum exact_sum_start() { return ExactSum(1 << (IMAGE_RESAMPLE_PRECISION_BITS - 1 - 16), 0); }

void exact_sum_add(inout ExactSum sum, uint value, int weight) {
  const int v = int(value);
  sum.lo += v * (weight & 0xffff);
  sum.hi += v * (weight >> 16) + (sum.lo >> 16);
  sum.lo &= 0xffff;
}

uint exact_sum_byte(ExactSum sum) {
  return uint(clamp(sum.hi >> (IMAGE_RESAMPLE_PRECISION_BITS - 16), 0, 255));
}
