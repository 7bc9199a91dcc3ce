# SPDX-License-Identifier: BSL-1.0
# The warnings that this project's own targets compile with, in one place:
# the library, the tests, the examples, the benchmarks and the fuzz target
# link singleflight_warnings PRIVATE. Not installed nor exported: a consumer
# chooses its own warnings.
#   singleflight_warnings           -Wall -Wextra (g++, clang)
#   singleflight_pedantic_warnings  the above and -Wpedantic (the library)
set(_singleflight_gnu_warnings -Wall -Wextra)
set(_singleflight_clang_warnings -Wall -Wextra)

add_library(singleflight_warnings INTERFACE)
target_compile_options(singleflight_warnings INTERFACE
  "$<$<CXX_COMPILER_ID:GNU>:${_singleflight_gnu_warnings}>"
  "$<$<CXX_COMPILER_ID:Clang,AppleClang>:${_singleflight_clang_warnings}>")

add_library(singleflight_pedantic_warnings INTERFACE)
target_link_libraries(singleflight_pedantic_warnings INTERFACE singleflight_warnings)
target_compile_options(singleflight_pedantic_warnings INTERFACE
  "$<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wpedantic>")

unset(_singleflight_gnu_warnings)
unset(_singleflight_clang_warnings)
