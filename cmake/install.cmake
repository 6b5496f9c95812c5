# `make install PREFIX=...` (or cmake --install BUILD --prefix DIR): the static and shared
# library, the public headers, peimm.pc for pkg-config, the CLI and its man page, in the GNU
# directories under the prefix. tests/install/install.sh installs into a temporary prefix
# and builds a program against that copy with pkg-config alone.
include(GNUInstallDirs)

# The shared library exports only the public API (cmake/peimm.map).
target_link_options(peimm_shared PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/peimm.map)
set_property(TARGET peimm_shared APPEND PROPERTY LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmake/peimm.map)

install(TARGETS peimm_static peimm_shared peimm
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
	RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/peimm.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/peimm/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/peimm
	FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_SOURCE_DIR}/docs/peimm.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# peimm.pc is written at install time, not configure time, because `cmake --install
# --prefix DIR` chooses the prefix only then. libdir and includedir stay relative to
# ${prefix} unless they were configured as absolute paths.
foreach(d LIBDIR INCLUDEDIR)
	if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
		set(pc_${d} "${CMAKE_INSTALL_${d}}")
	elseif(d STREQUAL "LIBDIR")
		set(pc_${d} "\${exec_prefix}/${CMAKE_INSTALL_${d}}")
	else()
		set(pc_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
	endif()
endforeach()
install(CODE "
	set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
	set(PEIMM_PC_LIBDIR [=[${pc_LIBDIR}]=])
	set(PEIMM_PC_INCLUDEDIR [=[${pc_INCLUDEDIR}]=])
	set(PEIMM_PC_VERSION ${PROJECT_VERSION})
	configure_file(${CMAKE_SOURCE_DIR}/cmake/peimm.pc.in ${CMAKE_BINARY_DIR}/peimm.pc @ONLY)
	file(INSTALL ${CMAKE_BINARY_DIR}/peimm.pc DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")
")

# The install test: a temporary prefix, pkg-config, a program built against the copy.
# A sanitizer build installs an instrumented library, so the program needs the same flags.
if(PEIMM_SANITIZE)
	set(install_test_flags "-fsanitize=address,undefined")
else()
	set(install_test_flags "")
endif()
add_test(NAME install.pkg_config_build
	COMMAND sh ${CMAKE_SOURCE_DIR}/tests/install/install.sh ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR}
		${CMAKE_SOURCE_DIR} "${install_test_flags}")
set_tests_properties(install.pkg_config_build PROPERTIES LABELS "fast" TIMEOUT 300)
