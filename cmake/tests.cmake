# Test registration. Every TEST(name) in tests/<dir>/*.c becomes its own CTest test
# "<dir>.<name>", so `ctest -R name` runs just one (STYLE rule 14). A layer's test binary
# links only that layer and the ones below it; tests/sys and tests/proc use the whole library.

add_library(pm_testharness OBJECT ${CMAKE_SOURCE_DIR}/tests/harness.c)
target_include_directories(pm_testharness PUBLIC ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)

function(pm_add_test_dir dir layers_or_all label)
  file(GLOB tsrcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${dir}/*.c)
  if(NOT tsrcs)
    return()
  endif()
  set(bin test_${dir})
  add_executable(${bin} ${tsrcs} $<TARGET_OBJECTS:pm_testharness>)
  target_include_directories(${bin} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_compile_definitions(${bin} PRIVATE PEIMM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  if(layers_or_all STREQUAL "ALL")
    target_link_libraries(${bin} PRIVATE peimm_static)
  else()
    set(objs "")
    foreach(l IN LISTS PEIMM_BELOW_${layers_or_all} layers_or_all)
      list(APPEND objs $<TARGET_OBJECTS:pm_${l}>)
    endforeach()
    target_sources(${bin} PRIVATE ${objs})
    target_link_libraries(${bin} PRIVATE Threads::Threads)
  endif()
  foreach(src IN LISTS tsrcs)
    file(STRINGS ${src} lines REGEX "^TEST\\(([A-Za-z0-9_]+)\\)")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^TEST\\(([A-Za-z0-9_]+)\\).*" "\\1" name "${line}")
      add_test(NAME ${dir}.${name} COMMAND ${bin} ${name})
      set_tests_properties(${dir}.${name} PROPERTIES LABELS "${label}" TIMEOUT 300)
    endforeach()
    file(STRINGS ${src} slow REGEX "^SLOW_TEST\\(([A-Za-z0-9_]+)\\)")
    foreach(line IN LISTS slow)
      string(REGEX REPLACE "^SLOW_TEST\\(([A-Za-z0-9_]+)\\).*" "\\1" name "${line}")
      add_test(NAME ${dir}.${name} COMMAND ${bin} ${name})
      set_tests_properties(${dir}.${name} PROPERTIES LABELS "slow" TIMEOUT 1200)
    endforeach()
  endforeach()
endfunction()

pm_add_test_dir(lib lib fast)
pm_add_test_dir(phys phys fast)
pm_add_test_dir(pgtable pgtable fast)
pm_add_test_dir(vma vma fast)
pm_add_test_dir(obj obj fast)
pm_add_test_dir(kacs kacs fast)
pm_add_test_dir(reclaim reclaim fast)
pm_add_test_dir(mm ALL fast)
pm_add_test_dir(sys ALL fast)
pm_add_test_dir(proc ALL fast)
pm_add_test_dir(diff ALL fast)
pm_add_test_dir(fuzz ALL fast)
pm_add_test_dir(conformance ALL fast)
# peimm replay's parser and runner live in the CLI (tools/peimm): their tests compile them in.
pm_add_test_dir(replay ALL fast)
if(TARGET test_replay)
  foreach(f replay_args replay_parse replay_elf replay_space replay_run replay_mem replay_proc
            replay_report scenario_names)
    target_sources(test_replay PRIVATE ${CMAKE_SOURCE_DIR}/tools/peimm/${f}.c)
  endforeach()
  target_include_directories(test_replay PRIVATE ${CMAKE_SOURCE_DIR}/tools/peimm)
endif()

# The libFuzzer binary (make fuzz): the same pm_fuzz_one, driven by coverage.
if(PEIMM_FUZZ)
  add_executable(fuzz_syscalls ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_syscalls.c)
  target_include_directories(fuzz_syscalls PRIVATE ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(fuzz_syscalls PRIVATE peimm_static)
  target_link_options(fuzz_syscalls PRIVATE -fsanitize=fuzzer)
endif()

# Scenario tests: each tests/scenarios/*.pmm runs through `peimm run`.
file(GLOB scenarios CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/scenarios/*.pmm)
foreach(s IN LISTS scenarios)
  get_filename_component(n ${s} NAME_WE)
  add_test(NAME scenario.${n} COMMAND peimm run ${s})
  set_tests_properties(scenario.${n} PROPERTIES LABELS "fast" TIMEOUT 300)
endforeach()

# The CLI's own functions (the shell's completion, the pictures), called directly.
pm_add_test_dir(cli ALL fast)
if(TARGET test_cli)
  target_link_libraries(test_cli PRIVATE peimm_cli)
endif()
# The shell driven by a piped script, and the tour's feature table (tests/cli/*.sh).
add_test(NAME cli.shell_runs_a_piped_script COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/shell.sh $<TARGET_FILE:peimm>)
add_test(NAME cli.tour_shows_every_feature COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/tour-features.sh $<TARGET_FILE:peimm>)
set_tests_properties(cli.shell_runs_a_piped_script cli.tour_shows_every_feature PROPERTIES LABELS "fast" TIMEOUT 300)

# The CLI's errors: one line on stderr and exit 2, for every command (tests/cli/errors.sh).
add_test(NAME cli.errors_are_one_line COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/errors.sh $<TARGET_FILE:peimm> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli.errors_are_one_line PROPERTIES LABELS "fast" TIMEOUT 300)

# peimm replay on the traces shipped in examples/traces and on bad input (tests/cli/replay.sh).
add_test(NAME cli.replay_shipped_traces COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/replay.sh $<TARGET_FILE:peimm> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli.replay_shipped_traces PROPERTIES LABELS "fast" TIMEOUT 300)

# Lint: layering of #includes, file length, and no writable globals in the library.
add_test(NAME lint.layers COMMAND sh ${CMAKE_SOURCE_DIR}/tools/lint/layers.sh ${CMAKE_SOURCE_DIR})
add_test(NAME lint.file_length COMMAND sh ${CMAKE_SOURCE_DIR}/tools/lint/file-length.sh ${CMAKE_SOURCE_DIR})
add_test(NAME lint.no_writable_globals COMMAND sh ${CMAKE_SOURCE_DIR}/tools/lint/globals.sh $<TARGET_FILE:peimm_static>)
set_tests_properties(lint.layers lint.file_length lint.no_writable_globals PROPERTIES LABELS "fast")
# Docs that must follow the code: every function of peimm.h in docs/api.md, every CLI command
# in the man page (which must also render without troff warnings; 77 = no renderer, skipped).
add_test(NAME lint.api_doc COMMAND sh ${CMAKE_SOURCE_DIR}/tools/lint/api-doc.sh ${CMAKE_SOURCE_DIR})
add_test(NAME lint.man_page COMMAND sh ${CMAKE_SOURCE_DIR}/tools/lint/man-page.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(lint.api_doc lint.man_page PROPERTIES LABELS "fast")
set_tests_properties(lint.man_page PROPERTIES SKIP_RETURN_CODE 77)

# The README's C example compiles and does what it says.
if(PEIMM_SANITIZE)
  set(example_flags "-fsanitize=address,undefined")
else()
  set(example_flags "")
endif()
add_test(NAME lint.readme_example COMMAND sh ${CMAKE_SOURCE_DIR}/tools/lint/readme-example.sh ${CMAKE_SOURCE_DIR} $<TARGET_FILE:peimm_static> "${example_flags}")
set_tests_properties(lint.readme_example PROPERTIES LABELS "fast")

# The differential corpora in the fast suite take about 30 s of CPU together (several
# times that under ASan, or on a busy machine): give them room beyond the fast tests' 300 s.
foreach(t diff.random_call_sequences_match_the_host_kernel
          diff.a_thousand_longer_call_sequences_match_the_host_kernel)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES TIMEOUT 1200)
  endif()
endforeach()
