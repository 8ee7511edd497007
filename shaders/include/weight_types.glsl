// Weight element types. Variants compiled with -DHALF_WEIGHTS=1 (SessionOptions::precision = Fp16)
// read IEEE half weights through 16-bit storage (storageBuffer16BitAccess) and widen each to fp32 as
// it is loaded: only storage is fp16, every product and sum stays fp32. Load as vec4(...) / float(...).
#if HALF_WEIGHTS
#extension GL_EXT_shader_16bit_storage : require
#define WEIGHT_SCALAR float16_t
#define WEIGHT_VEC4 f16vec4
#else
#define WEIGHT_SCALAR float
#define WEIGHT_VEC4 vec4
#endif
