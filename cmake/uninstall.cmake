# uninstall.cmake - removes every file the last install from a build tree
# put in place, as its install_manifest.txt lists them. The manifest holds
# the paths without DESTDIR: give the install's DESTDIR again, in the
# environment. Directories stay: they may hold other programs' files.
#   DESTDIR=... cmake -DMANIFEST=BUILD/install_manifest.txt -P cmake/uninstall.cmake
if(NOT MANIFEST OR NOT EXISTS "${MANIFEST}")
  message(FATAL_ERROR "nothing to uninstall: ${MANIFEST} does not exist (run make install first)")
endif()
file(STRINGS "${MANIFEST}" files)
foreach(f ${files})
  set(f "$ENV{DESTDIR}${f}")
  if(IS_SYMLINK "${f}" OR EXISTS "${f}")
    message(STATUS "Removing ${f}")
    file(REMOVE "${f}")
  else()
    message(STATUS "Not installed: ${f}")
  endif()
endforeach()
