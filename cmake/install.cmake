# Installation of the library: `cmake --install build --prefix P` puts the
# public headers (include/cvae/*.h and the generated cvae/version.h) under
# P/include, the static libraries under P/lib, and a CMake package under
# P/lib/cmake/cvae, so that another project can use
#   find_package(cvae REQUIRED)
#   target_link_libraries(app PRIVATE cvae::cvae)
# (tests/consumer/ is such a project, built by the `consumer` test). Included
# at the end of the top-level CMakeLists.txt, after the targets are defined
# (their include directories name the install tree in $<INSTALL_INTERFACE>).
include(CMakePackageConfigHelpers)

# The static libraries and what they link: one per directory of src/ (the
# top-level CMakeLists.txt), cvae (an interface library naming all of them),
# cvae_lite (the torch-free part) and cvae_gemm (the training step's sgemm,
# linked into cvae_train privately, which a static library still passes on).
set(CVAE_INSTALL_TARGETS cvae cvae_core cvae_io cvae_modalities_lite cvae_lite cvae_data cvae_models
  cvae_modalities cvae_train cvae_eval cvae_serve cvae_gemm)
set(CVAE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cvae)

install(TARGETS ${CVAE_INSTALL_TARGETS}
  EXPORT cvaeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cvae
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/generated/cvae/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cvae)
install(EXPORT cvaeTargets
  NAMESPACE cvae::
  FILE cvaeTargets.cmake
  DESTINATION ${CVAE_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cvaeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/cvaeConfig.cmake
  INSTALL_DESTINATION ${CVAE_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/cvaeConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/cvaeConfig.cmake
  ${CMAKE_BINARY_DIR}/cmake/cvaeConfigVersion.cmake
  DESTINATION ${CVAE_INSTALL_CMAKEDIR})
