// Original-destination recovery without a redirect: a direct loopback connection has no conntrack
// REDIRECT, so it must be classified as an explicit-proxy client. The redirected case is covered
// by the network-namespace test (tests/integration/test_transparent.py), which needs nftables.
#include <doctest/doctest.h>

#include "proxy/original_destination.hpp"

using namespace leakguard;

TEST_CASE("a direct connection is not redirected") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server(io);
  acceptor.accept(server);
  const auto original = original_destination(server);
  CHECK_FALSE(was_redirected(original, server.local_endpoint()));
}

TEST_CASE("redirect decision compares against the local address") {
  const tcp::endpoint local(asio::ip::make_address("10.42.0.1"), 8080);
  CHECK_FALSE(was_redirected(std::nullopt, local));
  CHECK_FALSE(was_redirected(local, local));
  CHECK(was_redirected(tcp::endpoint(asio::ip::make_address("203.0.113.7"), 80), local));
  CHECK(was_redirected(tcp::endpoint(asio::ip::make_address("10.42.0.1"), 80), local));
  // An IPv4-mapped local address is the same address.
  CHECK_FALSE(was_redirected(tcp::endpoint(asio::ip::make_address("10.42.0.1"), 8080),
                             tcp::endpoint(asio::ip::make_address("::ffff:10.42.0.1"), 8080)));
}
