# Helpers shared by the folders' CMakeLists.

# podium_unit_test(<name> <source> LIBS <libs...>): a GoogleTest binary beside its source,
# registered with CTest test by test.
function(podium_unit_test name source)
  if(NOT PODIUM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()
