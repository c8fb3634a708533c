# w2s_precompile_headers(<target> [HEADERS <header>...] [REUSE_FROM <target>])
#
# The lighter compile path for programs of several translation units: w2s is header-only and its umbrella header
# costs about 25 s and 1.4 GB per translation unit that includes it (docs/ARCHITECTURE.md, "Compile cost"); a
# precompiled header pays that once per target (or once per project with REUSE_FROM) instead of once per file.
# HEADERS defaults to <w2s/w2s.hpp>; name narrower ones (w2s/model/model.hpp, w2s/adaptive_steerer.hpp, ...)
# when a target needs less. REUSE_FROM shares another target's precompiled header (same compile options needed).
# Available after find_package(w2s) and inside the w2s tree.
function(w2s_precompile_headers target)
  cmake_parse_arguments(PARSE_ARGV 1 W2S_PCH "" "REUSE_FROM" "HEADERS")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "w2s_precompile_headers: no target named '${target}'")
  endif()
  if(W2S_PCH_REUSE_FROM)
    target_precompile_headers(${target} REUSE_FROM ${W2S_PCH_REUSE_FROM})
    return()
  endif()
  if(NOT W2S_PCH_HEADERS)
    set(W2S_PCH_HEADERS w2s/w2s.hpp)
  endif()
  set(_w2s_pch_list "")
  foreach(h IN LISTS W2S_PCH_HEADERS)
    list(APPEND _w2s_pch_list "<${h}>")
  endforeach()
  target_precompile_headers(${target} PRIVATE ${_w2s_pch_list})
endfunction()
