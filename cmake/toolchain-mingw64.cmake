# Cross build for 64-bit Windows with Debian's mingw-w64 (make windows).
#
# The -posix drivers: the default -win32 thread model has no std::mutex or std::thread.
# DDNSWATCH_WINDOWS_DEPS is the prefix that scripts/windows/build-deps.sh fills.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_triple x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_triple}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_triple}-g++-posix)
set(CMAKE_RC_COMPILER ${_triple}-windres)
set(CMAKE_AR ${_triple}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB ${_triple}-gcc-ranlib-posix CACHE FILEPATH "")

if(NOT DDNSWATCH_WINDOWS_DEPS AND DEFINED ENV{DDNSWATCH_WINDOWS_DEPS})
  set(DDNSWATCH_WINDOWS_DEPS $ENV{DDNSWATCH_WINDOWS_DEPS})
endif()
# try_compile projects see the toolchain file again; pass the prefix on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES DDNSWATCH_WINDOWS_DEPS)

set(CMAKE_FIND_ROOT_PATH /usr/${_triple})
if(DDNSWATCH_WINDOWS_DEPS)
  list(PREPEND CMAKE_FIND_ROOT_PATH ${DDNSWATCH_WINDOWS_DEPS})
endif()
# Libraries, headers and CMake packages from the target's prefixes only; programs (pkg-config,
# git, wine) from the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# A static .exe needs only system DLLs: without -static, Wine cannot find libstdc++-6.dll and
# friends and the program exits with code 53 before main.
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
# mingw's zlib also ships an import library, which FindZLIB would otherwise prefer.
set(ZLIB_USE_STATIC_LIBS ON)

# libstdc++ 12's generic atomic-wait code loses wake-ups on mingw: std::binary_semaphore (under
# std::stop_token and std::jthread) then hangs now and then. Its POSIX-semaphore path does not.
# Every translation unit of one program must agree on this, dependencies included.
set(CMAKE_C_FLAGS_INIT "-D_GLIBCXX_USE_POSIX_SEMAPHORE=1")
set(CMAKE_CXX_FLAGS_INIT "-D_GLIBCXX_USE_POSIX_SEMAPHORE=1")

# ctest (and anything run with the emulator) executes the .exe files through Wine.
find_program(_wine NAMES wine)
if(_wine)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_wine})
endif()
