# Shared build settings: warnings for our own code, sanitizers for Debug, ccache when present.
find_program(SMPPGUARD_CCACHE ccache)
if(SMPPGUARD_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${SMPPGUARD_CCACHE})
endif()

# UBSan's vptr check is left out: it tests memory through a pipe(2), so at the descriptor limit
# (which tests/faults drives the daemon to) every virtual call is reported as an invalid vptr.
if(CMAKE_BUILD_TYPE STREQUAL "Debug" AND SMPPGUARD_SANITIZE AND NOT SMPPGUARD_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined -fno-sanitize=vptr)
endif()

# smppguard_warnings(target): -Werror warnings for code we own (never for third-party headers,
# which are included as SYSTEM by their imported targets).
function(smppguard_warnings target)
  # Designated initialisers that leave members at their defaults are idiomatic here.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                                           -Wno-missing-field-initializers)
  # GCC 12 at -O2/-O3 reports std::string concatenation as overlapping memcpy (GCC bug 105329,
  # a false positive of -Wrestrict inside libstdc++): keep it a warning in optimised builds.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    target_compile_options(${target} PRIVATE -Wno-error=restrict)
  endif()
endfunction()

# smppguard_library(name SOURCES ... DEPS ...): a static library of ours under src/.
function(smppguard_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  smppguard_warnings(${name})
endfunction()
