# weft_proto_library(NAME name PROTOS a.proto... [GRPC])
# Compiles .proto files (paths relative to proto/) to C++ into a static library whose
# include root is the generated directory. With GRPC the messages go into
# <name>_messages (libprotobuf only) and <name> adds the gRPC stubs on top (and links
# libgrpc++): a program that only needs the messages — ztunnel speaks the node API
# through common/grpcwire — links <name>_messages and stays free of libgrpc.
function(weft_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME" "PROTOS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out_dir})
  set(srcs)
  set(grpc_srcs)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(dir ${proto} DIRECTORY)
    get_filename_component(stem ${proto} NAME_WE)
    set(generated ${out_dir}/${dir}/${stem}.pb.cc ${out_dir}/${dir}/${stem}.pb.h)
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND generated ${out_dir}/${dir}/${stem}.grpc.pb.cc ${out_dir}/${dir}/${stem}.grpc.pb.h)
      set(plugin_args --grpc_out=${out_dir}
          --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${generated}
      COMMAND protobuf::protoc --proto_path=${CMAKE_CURRENT_SOURCE_DIR}
              --cpp_out=${out_dir} ${plugin_args} ${CMAKE_CURRENT_SOURCE_DIR}/${proto}
      DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${out_dir}/${dir}/${stem}.pb.cc)
    if(ARG_GRPC)
      list(APPEND grpc_srcs ${out_dir}/${dir}/${stem}.grpc.pb.cc)
    endif()
  endforeach()
  if(ARG_GRPC)
    set(messages ${ARG_NAME}_messages)
    add_library(${messages} STATIC ${srcs})
    add_library(${ARG_NAME} STATIC ${grpc_srcs})
    target_link_libraries(${ARG_NAME} PUBLIC ${messages} gRPC::grpc++)
  else()
    set(messages ${ARG_NAME})
    add_library(${messages} STATIC ${srcs})
  endif()
  target_include_directories(${messages} SYSTEM PUBLIC ${out_dir})
  target_link_libraries(${messages} PUBLIC protobuf::libprotobuf)
endfunction()
