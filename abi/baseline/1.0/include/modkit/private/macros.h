// modkit/private/macros.h - portability macros shared by every ABI header.
// Not part of the contract: names here may change between versions.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// MODKIT_EXPORT marks the one symbol a module exports (modkit_module_entry).
#if defined(_WIN32)
#   define MODKIT_EXPORT __declspec(dllexport)
#else
#   define MODKIT_EXPORT __attribute__((visibility("default")))
#endif

// Calling convention of every function pointer that crosses the boundary.
#if defined(_WIN32) && !defined(_WIN64)
#   define MODKIT_ABI __cdecl
#else
#   define MODKIT_ABI
#endif

#ifdef __cplusplus
#   define MODKIT_EXTERN_C_BEGIN extern "C" {
#   define MODKIT_EXTERN_C_END }
#else
#   define MODKIT_EXTERN_C_BEGIN
#   define MODKIT_EXTERN_C_END
#endif
