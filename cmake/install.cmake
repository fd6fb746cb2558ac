# Installation of the library: `cmake --install build --prefix P` puts the
# public headers (include/cvae/*.h and the generated cvae/version.h) under
# P/include, the static libraries under P/lib, and a CMake package under
# P/lib/cmake/cvae, so that another project can use
#   find_package(cvae REQUIRED)
#   target_link_libraries(app PRIVATE cvae::cvae)
# (tests/consumer/ is such a project, built by the `consumer` test). Included
# at the end of the top-level CMakeLists.txt, after the targets are defined.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The static libraries and what they link: cvae (the library, with libtorch),
# cvae_lite (the torch-free part) and cvae_gemm (the training step's sgemm,
# linked into cvae privately, which a static library still passes on).
set(CVAE_INSTALL_TARGETS cvae cvae_lite cvae_gemm)
set(CVAE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cvae)

# The targets' include directories are paths in the source and build trees:
# keep them for the build, and point installed users at P/include instead.
function(cvae_install_interface_includes target install_dir)
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  set(out "")
  if(dirs)
    foreach(dir IN LISTS dirs)
      if(dir MATCHES "^\\$<")  # already a generator expression
        list(APPEND out "${dir}")
      else()
        list(APPEND out "$<BUILD_INTERFACE:${dir}>")
      endif()
    endforeach()
  endif()
  if(install_dir)
    list(APPEND out "$<INSTALL_INTERFACE:${install_dir}>")
  endif()
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${out}")
endfunction()
cvae_install_interface_includes(cvae ${CMAKE_INSTALL_INCLUDEDIR})
cvae_install_interface_includes(cvae_lite ${CMAKE_INSTALL_INCLUDEDIR})
# cvae_gemm's header is private to the library (src/train/gemm.h): installed
# users only link it.
cvae_install_interface_includes(cvae_gemm "")

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
