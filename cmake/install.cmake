include(CMakePackageConfigHelpers)

get_target_property(nflog_type nflog TYPE)
if(nflog_type STREQUAL "STATIC_LIBRARY")
  set(NFLOG_STATIC TRUE)
else()
  set(NFLOG_STATIC FALSE)
endif()

install(TARGETS nflog EXPORT nflogTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/nflog DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT nflogTargets NAMESPACE nflog:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nflog)

configure_package_config_file(cmake/nflogConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nflogConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nflog)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nflogConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nflogConfig.cmake ${PROJECT_BINARY_DIR}/nflogConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nflog)

# A static libnflog needs libmnl and threads on every link line, not only with --static.
if(NFLOG_STATIC)
  set(NFLOG_PC_REQUIRES "Requires")
  set(NFLOG_PC_LIBS "-lnflog -pthread")
else()
  set(NFLOG_PC_REQUIRES "Requires.private")
  set(NFLOG_PC_LIBS "-lnflog")
endif()
# The .pc file is written when installing, where the prefix given to
# `cmake --install --prefix` is known.
configure_file(cmake/install-pc.cmake.in ${PROJECT_BINARY_DIR}/install-pc.cmake @ONLY)
install(SCRIPT ${PROJECT_BINARY_DIR}/install-pc.cmake)
