// A port on 127.0.0.1 that is bound but not listening, so every connect is refused and no
// other test (nor an ephemeral source port) can take it meanwhile.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"

namespace weft::loadgen {

struct ClosedPort {
  ClosedPort() : fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    address = *event::SocketAddress::LocalOf(fd.get());
  }
  event::ScopedFd fd;
  event::SocketAddress address;
};

}  // namespace weft::loadgen
