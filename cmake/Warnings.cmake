# Applied per target with atrium_warnings(<target>) so third-party code is not affected.
function(atrium_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
  # GCC 12 at -O2/-O3 reports -Wrestrict inside libstdc++ for any "literal" + std::string (GCC bug 105329):
  # a false positive in the standard library, not in our code.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(ATRIUM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A static library made of every .cpp below the calling folder (a file per idea; helpers add files, not CMake lines).
# A subfolder with a CMakeLists.txt of its own is a separate library (e.g. media/audio, which needs libav): its
# files are left out here.
function(atrium_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  file(GLOB_RECURSE nested CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*/CMakeLists.txt)
  foreach(lists ${nested})
    get_filename_component(sub ${lists} DIRECTORY)
    foreach(src ${srcs})
      cmake_path(IS_PREFIX sub ${src} NORMALIZE inside)
      if(inside)
        list(REMOVE_ITEM srcs ${src})
      endif()
    endforeach()
  endforeach()
  if(NOT srcs)  # a module still being written: headers only for now
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${M_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${M_DEPS})
  atrium_warnings(${name})
endfunction()
