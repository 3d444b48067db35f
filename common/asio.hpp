// The one way leakguard includes Boost.Asio: <utility> first, because Boost 1.74's
// awaitable.hpp uses std::exchange without including it (g++ 12 then fails to compile it).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace leakguard {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
}  // namespace leakguard
