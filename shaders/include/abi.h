// Macros for the *_abi.h headers, each included by one kernel family's shaders and its host file in
// src/ops: one push-constant layout, workgroup size, tile and mode constant for both languages.
//   VKV_PUSH_BEGIN(Name) VKV_UINT(a) VKV_FLOAT(b) ... VKV_PUSH_END(Name, bytes)
// is, in C++, struct vkvision::abi::Name { uint32_t a; float b; ... } with a static_assert that its
// size is `bytes`; in GLSL, the shader's `layout(push_constant) uniform Name { uint a; float b; } p`.
// Fields are 4-byte scalars only, so the std430 push-constant offsets are 0, 4, 8, ... as in C++.
// Constants are plain #defines (integer literals), usable in GLSL layout qualifiers and C++ alike.
#ifndef VKVISION_ABI_H
#define VKVISION_ABI_H

#ifdef __cplusplus
#include <cstdint>
#define VKV_PUSH_BEGIN(Name) \
  namespace vkvision::abi {  \
  struct Name {
#define VKV_UINT(field) uint32_t field;
#define VKV_FLOAT(field) float field;
#define VKV_PUSH_END(Name, bytes)                                                      \
  };                                                                                   \
  static_assert(sizeof(Name) == (bytes), #Name ": C++ size differs from its GLSL block"); \
  }
#else
#define VKV_PUSH_BEGIN(Name) layout(push_constant) uniform Name {
#define VKV_UINT(field) uint field;
#define VKV_FLOAT(field) float field;
#define VKV_PUSH_END(Name, bytes) } p;
#endif

#endif
