# Builds tests/consumer against w2s in the mode MODE (find_package | add_subdirectory).
# Called by CTest: cmake -DW2S_SOURCE=... -DWORK=... -DMODE=... -DGENERATOR=... -P run_consumer.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
set(consumer_src ${W2S_SOURCE}/tests/consumer)
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} -S ${W2S_SOURCE} -B ${WORK}/w2s-build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
      -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_BENCHMARKS=OFF -DW2S_BUILD_EXAMPLES=OFF -DW2S_BUILD_TOOLS=OFF
      -DW2S_INSTALL=ON -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
  run(${CMAKE_COMMAND} --install ${WORK}/w2s-build)
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
      -DCMAKE_PREFIX_PATH=${WORK}/prefix -DW2S_CONSUMER_MODE=find_package)
else()
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
      -DW2S_CONSUMER_MODE=add_subdirectory -DW2S_SOURCE=${W2S_SOURCE})
endif()
run(${CMAKE_COMMAND} --build ${WORK}/build)
run(${WORK}/build/consumer)
message(STATUS "consumer (${MODE}) built and ran")
