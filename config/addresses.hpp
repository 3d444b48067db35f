// Parsing of the address-like values in the configuration (listen addresses, MAC addresses) with
// a reason when the text is wrong, so the loader can say *why* and not only *where*. The public
// ListenAddress::parse and MacAddress::parse in config.hpp are thin wrappers over these.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "config/config.hpp"

namespace leakguard {

// Either the address or a message saying what is wrong with the text.
std::variant<ListenAddress, std::string> parse_listen_address(std::string_view text);

}  // namespace leakguard
