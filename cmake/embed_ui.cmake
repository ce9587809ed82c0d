# Embed the web console's files (ui/, flat) into the redress library as C
# arrays, with a strong ETag of each file's SHA-256, for src/http/ui.c to
# serve. Run by the build (CMakeLists.txt) as
#   cmake -DUI_DIR=<ui dir> -DOUT=<file.c> -P embed_ui.cmake
# A file name outside [A-Za-z0-9._-] or a subdirectory fails the build:
# the server matches request paths against these names only.
if(NOT UI_DIR OR NOT OUT)
  message(FATAL_ERROR "embed_ui.cmake needs -DUI_DIR=... and -DOUT=...")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/embed_common.cmake")

file(GLOB entries RELATIVE "${UI_DIR}" "${UI_DIR}/*")
list(SORT entries)
set(body "/* Generated from ui/ by cmake/embed_ui.cmake: do not edit. */\n")
string(APPEND body "#include \"http/ui.h\"\n\n")
set(table "")
set(count 0)
foreach(name IN LISTS entries)
  if(IS_DIRECTORY "${UI_DIR}/${name}")
    message(FATAL_ERROR "ui/${name}: the console is flat; no subdirectories")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
    message(FATAL_ERROR "ui/${name}: file names are [A-Za-z0-9._-] only")
  endif()
  embed_bytes("${UI_DIR}/${name}" hex size tag)
  string(APPEND body "static const unsigned char asset_${count}[] = {\n\t${hex}0x00\n};\n\n")
  string(APPEND table "\t{ \"${name}\", asset_${count}, ${size}, \"\\\"${tag}\\\"\" },\n")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  string(APPEND table "\t{ 0, 0, 0, 0 },\n")
endif()
string(APPEND body "const http_ui_asset http_ui_assets[] = {\n${table}};\n\n")
string(APPEND body "const size_t http_ui_asset_count = ${count};\n")

write_if_changed("${OUT}" "${body}")
