# Builds one libFuzzer target with clang++ -fsanitize=fuzzer,address,undefined and runs it for SECONDS seconds on its
# corpus (WORK/corpus, kept between runs) and its seeds (the committed ones in SEEDS, and those the target writes
# itself from LLVMFuzzerInitialize into WORK/seeds through $W2S_FUZZ_SEEDS). Crash inputs go to WORK/crashes/.
# Fails (never skips) when clang++ or libFuzzer is missing, and on any finding. The last line it prints is
#   w2s-fuzz: NAME runs=R exec_per_sec=E seconds=S crashes=C corpus=N
# (scripts/fuzz.sh reads it). The target runs with $W2S_SOURCE_DIR set to the source tree (for golden files). Used by the CTest tests of w2s_add_fuzz() (tests/CMakeLists.txt) and scripts/fuzz.sh.
# Arguments: NAME SOURCE FLAGS (the file tests/CMakeLists.txt generates: includes, defines, libraries) WORK SECONDS
#            [SEEDS (a folder or a glob pattern)] [FUZZ_CXX] [LAUNCHER ('|'-separated)] [MAX_LEN (default 8192)]
#            [EXTRA_DEFINES, EXTRA_LIBS (','-separated: w2s_add_fuzz's COMPILED_MODEL)].
cmake_minimum_required(VERSION 3.25)

foreach(_v NAME SOURCE FLAGS WORK SECONDS)
  if(NOT DEFINED ${_v} OR "${${_v}}" STREQUAL "")
    message(FATAL_ERROR "run_fuzz.cmake: ${_v} is not set")
  endif()
endforeach()
include("${FLAGS}")  # FUZZ_SOURCE_DIR, FUZZ_INCLUDES, FUZZ_SYSTEM_INCLUDES, FUZZ_DEFINES, FUZZ_LIBS
if(NOT MAX_LEN)
  set(MAX_LEN 8192)
endif()

if(FUZZ_CXX)
  set(_cxx "${FUZZ_CXX}")
else()
  find_program(_cxx NAMES clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14)
endif()
if(NOT _cxx)
  message(FATAL_ERROR "${NAME}: clang++ not found. The fuzz tests need clang with libFuzzer: "
                      "apt-get install clang libclang-rt-14-dev (listed in scripts/apt-packages.txt), "
                      "or set -DW2S_FUZZ_CXX=/path/to/clang++.")
endif()

file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/seeds" "${WORK}/crashes")
if(SEEDS)
  if(IS_DIRECTORY "${SEEDS}")
    file(GLOB _seeds "${SEEDS}/*")
  else()
    file(GLOB _seeds "${SEEDS}")  # a pattern, e.g. tests/golden/gguf_writer_*.gguf.bin
  endif()
  foreach(_s IN LISTS _seeds)
    file(COPY "${_s}" DESTINATION "${WORK}/seeds")
  endforeach()
endif()

set(_exe "${WORK}/${NAME}")
set(_args)
foreach(_i IN LISTS FUZZ_INCLUDES)
  if(_i)
    list(APPEND _args -I "${_i}")
  endif()
endforeach()
foreach(_i IN LISTS FUZZ_SYSTEM_INCLUDES)
  if(_i)
    list(APPEND _args -isystem "${_i}")
  endif()
endforeach()
foreach(_d IN LISTS FUZZ_DEFINES)
  list(APPEND _args "-D${_d}")
endforeach()
string(REPLACE "," ";" _extra_defs "${EXTRA_DEFINES}")
foreach(_d IN LISTS _extra_defs)
  list(APPEND _args "-D${_d}")
endforeach()
string(REPLACE "," ";" _extra_libs "${EXTRA_LIBS}")
foreach(_l IN LISTS _extra_libs)
  if(NOT EXISTS "${_l}")
    message(FATAL_ERROR "${NAME}: ${_l} is not built; build the project (or that library's target) first")
  endif()
endforeach()
string(REPLACE "|" ";" _launcher "${LAUNCHER}")
string(TIMESTAMP _t0 "%s")
execute_process(
  COMMAND ${_launcher} "${_cxx}" -std=c++20 -g -O1 -fno-omit-frame-pointer -Wall -Wextra
          -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
          ${_args} "${SOURCE}" -o "${_exe}" ${_extra_libs} ${FUZZ_LIBS}
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
string(TIMESTAMP _t1 "%s")
math(EXPR _build_s "${_t1} - ${_t0}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${NAME}: building the fuzzer with ${_cxx} -fsanitize=fuzzer,address,undefined failed "
                      "(is libFuzzer installed? apt-get install libclang-rt-14-dev):\n${_out}\n${_err}")
endif()
if(_err)
  message(WARNING "${NAME}: the compiler said:\n${_err}")
endif()
message(STATUS "${NAME}: built with ${_cxx} in ${_build_s} s; running for ${SECONDS} s")

file(GLOB _crashes_before "${WORK}/crashes/*")
list(LENGTH _crashes_before _n_before)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "W2S_FUZZ_SEEDS=${WORK}/seeds" "W2S_SOURCE_DIR=${FUZZ_SOURCE_DIR}"
          "${_exe}" -max_total_time=${SECONDS} -max_len=${MAX_LEN} -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1 "-artifact_prefix=${WORK}/crashes/" "${WORK}/corpus" "${WORK}/seeds"
  WORKING_DIRECTORY "${WORK}"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
string(TIMESTAMP _t2 "%s")
math(EXPR _run_s "${_t2} - ${_t1}")
file(WRITE "${WORK}/last_run.log" "${_out}${_err}")
set(_runs 0)
set(_eps 0)
if(_err MATCHES "stat::number_of_executed_units: *([0-9]+)")
  set(_runs "${CMAKE_MATCH_1}")
endif()
if(_err MATCHES "stat::average_exec_per_sec: *([0-9]+)")
  set(_eps "${CMAKE_MATCH_1}")
endif()
file(GLOB _corpus "${WORK}/corpus/*")
list(LENGTH _corpus _n_corpus)
file(GLOB _crashes_after "${WORK}/crashes/*")
list(LENGTH _crashes_after _n_after)
math(EXPR _n_crashes "${_n_after} - ${_n_before}")
if(NOT _rc EQUAL 0 AND _n_crashes EQUAL 0)
  set(_n_crashes 1)  # a failure that left no input (e.g. a crash in LLVMFuzzerInitialize)
endif()
if(NOT _rc EQUAL 0)
  string(LENGTH "${_err}" _len)
  if(_len GREATER 12000)
    math(EXPR _from "${_len} - 12000")
    string(SUBSTRING "${_err}" ${_from} -1 _err)
  endif()
  message("${NAME}: the fuzzer found a failure (exit ${_rc}); crash inputs are in ${WORK}/crashes/, "
          "the whole log in ${WORK}/last_run.log:\n${_err}")
endif()
message("w2s-fuzz: ${NAME} runs=${_runs} exec_per_sec=${_eps} seconds=${_run_s} crashes=${_n_crashes} corpus=${_n_corpus}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${NAME}: failed")
endif()
