# Writes CTEST_FILE: the ctest entries of test_ops (run after each build, as gtest_discover_tests does).
# A conformance test (<Op>Conformance.<Case>_<Path>, tests/ops/conformance.h) runs in one
# process with the op's other cases on that path, as the entry <Op>Conformance.*_<Path>: each
# process pays for a Vulkan context with validation and its own shader compiles, which one entry per
# (case, path) would pay 270 times. Other tests get one entry each. An entry whose tests all
# skipped (the marker test_ops prints: "[ ALL SKIPPED ]") is reported skipped.
cmake_policy(SET CMP0057 NEW)  # IN_LIST
execute_process(COMMAND "${TEST_EXECUTABLE}" --gtest_list_tests OUTPUT_VARIABLE listing
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${TEST_EXECUTABLE} --gtest_list_tests failed: ${result}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(suite "")
set(entries "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([A-Za-z0-9_/]+\\.)")
    set(suite "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^  ([A-Za-z0-9_/]+)")
    set(test "${CMAKE_MATCH_1}")
    if(suite MATCHES "Conformance\\.$" AND test MATCHES "_([A-Za-z0-9]+)$")
      set(entry "${suite}*_${CMAKE_MATCH_1}")
    else()
      set(entry "${suite}${test}")
    endif()
    if(NOT entry IN_LIST entries)
      list(APPEND entries "${entry}")
    endif()
  endif()
endforeach()
set(content "")
foreach(entry IN LISTS entries)
  string(APPEND content "add_test([==[${entry}]==] \"${TEST_EXECUTABLE}\" [==[--gtest_filter=${entry}]==])\n"
         "set_tests_properties([==[${entry}]==] PROPERTIES ENVIRONMENT VKVISION_VALIDATION=sync "
         "ENVIRONMENT_MODIFICATION VK_ADD_LAYER_PATH=set:${LAYER_DIR} "
         "SKIP_REGULAR_EXPRESSION [==[\\[ ALL SKIPPED \\]]==])\n")
endforeach()
file(WRITE "${CTEST_FILE}" "${content}")
