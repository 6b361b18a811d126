# Project code builds with -Wall -Wextra -Werror; generated code (protobuf, gRPC,
# skeletons) does not go through this function.
function(weft_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()
