// utf8.hpp - strict UTF-8 (RFC 3629): what every stored or echoed string must be, since the JSON
// writer, every module and every client reject anything else.
#pragma once

#include <string_view>

namespace chat {

// True when text is well-formed UTF-8: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated sequence.
bool valid_utf8(std::string_view text);

} // namespace chat
