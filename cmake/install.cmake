include(CMakePackageConfigHelpers)

install(TARGETS nflog EXPORT nflogTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/nflog DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT nflogTargets NAMESPACE nflog:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nflog)

configure_package_config_file(cmake/nflogConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nflogConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nflog)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nflogConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nflogConfig.cmake ${PROJECT_BINARY_DIR}/nflogConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nflog)

file(RELATIVE_PATH NFLOG_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" NFLOG_PC_TO_PREFIX "${NFLOG_PC_TO_PREFIX}")
configure_file(cmake/nflog.pc.in ${PROJECT_BINARY_DIR}/nflog.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nflog.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
