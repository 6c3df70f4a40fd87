# modkit_precompile(target): precompiles the heavy third-party headers most of the target's files
# include (nlohmann/json alone is about half of a small file's compile time). Only for targets of
# many files: a precompiled header costs one compile of its own. Set
# CMAKE_DISABLE_PRECOMPILE_HEADERS=ON to check that every file still includes what it uses.
function(modkit_precompile target)
  target_precompile_headers(${target} PRIVATE
    <nlohmann/json.hpp> <fmt/format.h>
    <algorithm> <functional> <map> <memory> <mutex> <optional> <string> <string_view> <vector>)
endfunction()
