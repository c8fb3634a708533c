# Builds fuzz_gguf_reader.cpp with clang++ -fsanitize=fuzzer,address,undefined and runs it for SECONDS
# seconds on a corpus seeded with the golden GGUF files. Fails (never skips) when clang++ or libFuzzer
# is missing. Arguments: SOURCE INCLUDE SEEDS WORK SECONDS [FUZZ_CXX].
cmake_minimum_required(VERSION 3.25)

if(FUZZ_CXX)
  set(_cxx "${FUZZ_CXX}")
else()
  find_program(_cxx NAMES clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14)
endif()
if(NOT _cxx)
  message(FATAL_ERROR "gguf_fuzz: clang++ not found. The fuzz test needs clang with libFuzzer: "
                      "apt-get install clang libclang-rt-14-dev (listed in scripts/apt-packages.txt), "
                      "or set -DW2S_FUZZ_CXX=/path/to/clang++.")
endif()

file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/seeds")
file(GLOB _seeds "${SEEDS}/gguf_writer_*.gguf.bin")  # *.gguf is git-ignored, so the golden GGUF files end in .gguf.bin
foreach(_s IN LISTS _seeds)
  file(COPY "${_s}" DESTINATION "${WORK}/seeds")
endforeach()

set(_exe "${WORK}/fuzz_gguf_reader")
message(STATUS "gguf_fuzz: building with ${_cxx}")
execute_process(
  COMMAND "${_cxx}" -std=c++20 -g -O1 -fno-omit-frame-pointer
          -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
          -I "${INCLUDE}" "${SOURCE}" -o "${_exe}"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "gguf_fuzz: building the fuzzer with ${_cxx} -fsanitize=fuzzer,address,undefined failed "
                      "(is libFuzzer installed? apt-get install libclang-rt-14-dev):\n${_out}\n${_err}")
endif()

message(STATUS "gguf_fuzz: running for ${SECONDS} s")
execute_process(
  COMMAND "${_exe}" -max_total_time=${SECONDS} -max_len=8192 -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1 "${WORK}/corpus" "${WORK}/seeds"
  WORKING_DIRECTORY "${WORK}"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" _runs "${_err}")
message(STATUS "gguf_fuzz: ${_runs}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "gguf_fuzz: the fuzzer found a failure (exit ${_rc}); crash inputs are in ${WORK}:\n${_err}")
endif()
