// json_limits.hpp - reading a client's JSON within bounds. nlohmann's parser is iterative, but
// its writer (dump), comparisons and copies recurse: a body nested 100,000 deep parses fine and
// then overflows the stack when the host serialises it for a module. So depth is checked on the
// text, before anything is built from it.
#pragma once

#include "limits.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace chat {

// True when arrays and objects in text nest deeper than max_depth (strings are skipped). Linear,
// no allocation; it stops at the first level too deep.
bool json_too_deep(std::string_view text, size_t max_depth);

// A request body as a JSON object. Throws MatrixError: 413 M_TOO_LARGE above max_json_size,
// 400 M_BAD_JSON when nested deeper than max_json_depth or not an object, 400 M_NOT_JSON when
// not JSON at all (which includes strings that are not valid UTF-8 or hold a lone surrogate).
// An empty body is {}.
nlohmann::json parse_json_body(std::string_view text, const Limits &limits);
// Any JSON value within the same bounds (size, depth, valid JSON); "" is not JSON here.
nlohmann::json parse_bounded_json(std::string_view text, const Limits &limits);

} // namespace chat
