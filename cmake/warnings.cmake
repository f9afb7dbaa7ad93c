function(nflog_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(NFLOG_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # g++ 12 at -O3 reports impossible overlaps inside libstdc++'s own
    # std::string code (-Wrestrict false positive, fixed in g++ 13).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()
