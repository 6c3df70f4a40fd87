#!/bin/sh
# build_and_load.sh PREFIX LIBDIR WORK_DIR CC CMAKE
# Builds a C module and a C host with only a compiler and `pkg-config modkit` against the
# installed PREFIX, checks the module's ELF hygiene, then loads it with the host.
set -eu
prefix=$1 libdir=$2 work=$3 cc=$4 cmake=$5
here=$(cd "$(dirname "$0")" && pwd)

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
cflags=$(pkg-config --cflags modkit)
libs=$(pkg-config --libs modkit)
map=$(pkg-config --variable=module_map modkit)
loader_dir=$(pkg-config --variable=libdir modkit)
[ -f "$map" ] || { echo "module_map names a missing file: $map" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/modules"
# shellcheck disable=SC2086 # the flags are word lists
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags -fPIC -fvisibility=hidden -shared \
   -o "$work/modules/c_word_filter.so" "$here/c_word_filter.c" \
   -Wl,--version-script="$map" -Wl,-z,defs -Wl,-z,now -Wl,-z,noexecstack
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags -o "$work/spam_host" \
   "$here/../common/spam_host.c" $libs -Wl,-rpath,"$loader_dir"

# The chat host's extension headers come with the package: a C module for it needs nothing else.
printf '#include <chat_host/cache_stats.h>\n#include <chat_host/homeserver.h>\nint main(void) { return sizeof(chat_homeserver_api) == 0; }\n' \
   >"$work/chat_host_headers.c"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags -fsyntax-only "$work/chat_host_headers.c"

"$cmake" -DMODULE="$work/modules/c_word_filter.so" -DNM=nm -DREADELF=readelf \
   -P "$here/../../sdk/check_module_hygiene.cmake"

"$work/spam_host" "$work/modules" c_word_filter '{"word": "spam"}' "buy spam now" 1
"$work/spam_host" "$work/modules" c_word_filter '{"word": "spam"}' "hello" 0
"$work/spam_host" --config-error /modules/0/config/word "$work/modules" c_word_filter '{"words": 1}'
