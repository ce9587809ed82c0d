# What cmake/embed_ui.cmake and cmake/embed_file.cmake share: a file as
# the body of a C array, with its size and a strong ETag of its SHA-256,
# and a generated source written only when it changed.

# embed_bytes(FILE HEX SIZE TAG): the bytes of FILE as "0x..," lines in
# HEX (twelve to a line, to follow a tab), its size in SIZE, and the first
# 32 hex digits of its SHA-256 in TAG.
function(embed_bytes file hex_var size_var tag_var)
  file(READ "${file}" hex HEX)
  file(SHA256 "${file}" sha)
  file(SIZE "${file}" size)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t" hex "${hex}")
  string(SUBSTRING "${sha}" 0 32 tag)
  set(${hex_var} "${hex}" PARENT_SCOPE)
  set(${size_var} "${size}" PARENT_SCOPE)
  set(${tag_var} "${tag}" PARENT_SCOPE)
endfunction()

# write_if_changed(OUT BODY): so that an unchanged input rebuilds nothing.
function(write_if_changed out body)
  set(old "")
  if(EXISTS "${out}")
    file(READ "${out}" old)
  endif()
  if(NOT old STREQUAL body)
    file(WRITE "${out}" "${body}")
  endif()
endfunction()
