# Turns one .spv file into a C++ array of 32-bit words (little-endian, as SPIR-V is stored).
file(READ ${SPV} hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR word_count "${hex_length} / 8")
string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u," words "${hex}")
file(WRITE ${OUT} "// Generated from ${NAME}.comp.\n#include <cstddef>\n#include <cstdint>\n"
     "namespace vkvision::vk {\nextern const uint32_t spirv_${NAME}[] = {${words}};\n"
     "extern const size_t spirv_${NAME}_words = ${word_count};\n}\n")
