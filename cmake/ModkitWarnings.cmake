# modkit_warnings(target): the project's own warning set; errors when MODKIT_WERROR is on.
function(modkit_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<BOOL:${MODKIT_WERROR}>:-Werror>)
endfunction()
