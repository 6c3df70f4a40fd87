// modkit/sdk/version.hpp - the version of the C++ SDK, as recorded in every module's manifest.
#pragma once

#define MODKIT_SDK_VERSION_MAJOR 1
#define MODKIT_SDK_VERSION_MINOR 0
#define MODKIT_SDK_VERSION_PATCH 0
// Kept equal to the project version; sdk/CMakeLists.txt checks it at configure time.
#define MODKIT_SDK_VERSION_STRING "1.0.0"

// The manifest's "sdk" field: which SDK built the module (the C macros write "c-<abi>").
#define MODKIT_SDK_TAG "cpp-" MODKIT_SDK_VERSION_STRING
