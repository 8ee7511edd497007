# Install rules (GNUInstallDirs) and the Debian packages, one component each:
#   runtime  libvkvision0     the shared library
#   dev      libvkvision-dev  headers, CMake package (vkvision::vkvision), pkg-config file, the .so link
#   tools    vkvision-tools   the CLI, the bundled default model and the samples under share/vkvision
#   python   python3-vkvision `import vkvision` (python/CMakeLists.txt), in Debian's dist-packages
# tests/install/run.sh installs into a prefix, builds a consumer against it and checks the packages.
include(CMakePackageConfigHelpers)
set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/vkvision)

install(DIRECTORY include/vkvision ${PROJECT_BINARY_DIR}/include/vkvision
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(TARGETS vkvision EXPORT vkvisionTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT vkvisionTargets NAMESPACE vkvision:: DESTINATION ${cmake_dir} COMPONENT dev)

# A static libvkvision carries its private dependencies to the consumer's link.
if(VKVISION_SHARED)
  set(VKVISION_PRIVATE_DEPENDENCIES "")
  set(VKVISION_PKGCONFIG_LIBS_PRIVATE "")
else()
  set(VKVISION_PRIVATE_DEPENDENCIES "find_dependency(ZLIB)\nfind_dependency(JPEG)")
  set(VKVISION_PKGCONFIG_LIBS_PRIVATE "Libs.private: -lz -ljpeg")
endif()
configure_package_config_file(cmake/vkvisionConfig.cmake.in ${PROJECT_BINARY_DIR}/vkvisionConfig.cmake
                              INSTALL_DESTINATION ${cmake_dir})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vkvisionConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vkvisionConfig.cmake ${PROJECT_BINARY_DIR}/vkvisionConfigVersion.cmake
        DESTINATION ${cmake_dir} COMPONENT dev)

# pkg-config: paths relative to the .pc file, so the prefix may move (cmake --install --prefix, cpack).
file(RELATIVE_PATH VKVISION_PKGCONFIG_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/vkvision.pc.in ${PROJECT_BINARY_DIR}/vkvision.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vkvision.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

if(VKVISION_BUILD_CLI)
  install(TARGETS vkvision_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  install(FILES models/convnext_fmnist.safetensors models/README.md
          DESTINATION ${CMAKE_INSTALL_DATADIR}/vkvision/models COMPONENT tools)
  install(DIRECTORY samples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/vkvision/samples COMPONENT tools
          FILES_MATCHING PATTERN "*.png")
  # `vkvision selftest`'s family fixtures (src/selftest/model_checks.cpp lists them; a missing one
  # is a failed check), 3.4 MB installed.
  set(selftest_fixtures
      convnext/timm.safetensors convnext/timm_logits.npy convnext/torchvision.pth
      convnext/torchvision_logits.npy convnext/input.npy
      convnextv2/official.pth convnextv2/official_logits.npy convnextv2/input.npy
      inceptionnext/timm_atto_form.safetensors inceptionnext/timm_atto_form_logits.npy inceptionnext/input.npy
      repvgg/official_train.pth repvgg/logits.npy repvgg/input.npy
      repmlpnet/official_train.pth repmlpnet/logits.npy repmlpnet/input.npy
      swin/v1_timm.pth swin/v1_logits36.npy swin/v2_torchvision.pth swin/v2_logits36.npy swin/input36.npy
      swin/mlp_official.pth swin/mlp_logits32.npy swin/input32.npy
      mlp/mixer_timm.safetensors mlp/mixer_timm_logits.npy mlp/gmixer_timm.safetensors
      mlp/gmixer_timm_logits.npy mlp/resmlp_official.pth mlp/resmlp_official_logits.npy
      mlp/gmlp_timm.safetensors mlp/gmlp_timm_logits.npy mlp/input28.npy)
  foreach(fixture ${selftest_fixtures})
    get_filename_component(folder ${fixture} DIRECTORY)
    install(FILES tests/fixtures/${fixture} DESTINATION ${CMAKE_INSTALL_DATADIR}/vkvision/selftest/${folder}
            COMPONENT tools)
  endforeach()
endif()

# cpack -G DEB. Depends are stated for Debian 12 (what readelf -d lists as NEEDED, by package).
set(CPACK_PACKAGE_NAME vkvision)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR vkvision)
set(CPACK_PACKAGE_CONTACT "vkvision maintainers <vkvision@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "image classification on any Vulkan device")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
if(VKVISION_BUILD_CLI)
  list(APPEND CPACK_COMPONENTS_ALL tools)
endif()
if(VKVISION_BUILD_PYTHON)
  list(APPEND CPACK_COMPONENTS_ALL python)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(version_dependency "(= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libvkvision${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
    "libc6 (>= 2.34), libgcc-s1, libstdc++6 (>= 12), libvulkan1, zlib1g, libjpeg62-turbo")
# Without a Vulkan driver there is no device to run on (libvulkan1 recommends the same).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "mesa-vulkan-drivers | vulkan-icd")
# A shlibs file (with its ldconfig trigger) for packages built against libvkvision0.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "vkvision shared library: image classifiers on any Vulkan device")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libvkvision-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "${CPACK_DEBIAN_RUNTIME_PACKAGE_NAME} ${version_dependency}, libvulkan-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION "vkvision headers, CMake package and pkg-config file")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME vkvision-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION science)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${CPACK_DEBIAN_RUNTIME_PACKAGE_NAME} ${version_dependency}")
string(APPEND CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS
       ", libc6 (>= 2.34), libgcc-s1, libstdc++6 (>= 12), libvulkan1")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "vkvision command line, default Fashion-MNIST model and samples")
set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-vkvision)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "${CPACK_DEBIAN_RUNTIME_PACKAGE_NAME} ${version_dependency}, \
${VKVISION_PYTHON_DEB_DEPENDS}, python3-numpy, libc6 (>= 2.34), libgcc-s1, libstdc++6 (>= 12)")
set(CPACK_COMPONENT_PYTHON_DESCRIPTION "vkvision Python module: import vkvision")
include(CPack)
