#include "config/addresses.hpp"

#include <boost/asio/ip/address.hpp>

namespace leakguard {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict: 1 to 5 decimal digits, no sign, no leading zero (so "08080" cannot be misread as octal
// by the next tool that sees the file), at most 65535.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  // "a4:50:46:12:34:56", "A4-50-46-12-34-56" or "a45046123456"; one separator style throughout.
  std::size_t stride = 0;
  char separator = 0;
  if (text.size() == 17 && (text[2] == ':' || text[2] == '-')) {
    stride = 3;
    separator = text[2];
  } else if (text.size() == 12) {
    stride = 2;
  } else {
    return std::nullopt;
  }
  MacAddress mac;
  for (std::size_t i = 0; i < 6; ++i) {
    const std::size_t at = i * stride;
    if (separator != 0 && i > 0 && text[at - 1] != separator) return std::nullopt;
    const int high = hex_value(text[at]);
    const int low = hex_value(text[at + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    mac.octets[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return mac;
}

std::string MacAddress::to_string() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < octets.size(); ++i) {
    if (i > 0) out += ':';
    out += digits[octets[i] >> 4];
    out += digits[octets[i] & 0x0F];
  }
  return out;
}

std::variant<ListenAddress, std::string> parse_listen_address(std::string_view text) {
  namespace ip = boost::asio::ip;
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::string("missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return std::string("expected ':PORT' after ']'");
    port = rest.substr(1);
    bracketed = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return std::string("expected IP:PORT (like 127.0.0.1:8080 or [::1]:8080); the port is missing");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return std::string("write an IPv6 address in brackets, like [::1]:8080");
  }
  boost::system::error_code ec;
  ip::address address;
  if (bracketed)
    address = ip::make_address_v6(std::string(host), ec);
  else
    address = ip::make_address_v4(std::string(host), ec);
  if (ec || host.empty())
    return "'" + std::string(host) + "' is not a literal " + (bracketed ? "IPv6" : "IPv4") +
           " address (host names are not allowed here)";
  const auto port_number = parse_port(port);
  if (!port_number) return "bad port '" + std::string(port) + "': expected a number from 0 to 65535";
  return ListenAddress{address.to_string(), *port_number};
}

std::optional<ListenAddress> ListenAddress::parse(std::string_view text) {
  auto parsed = parse_listen_address(text);
  if (auto* address = std::get_if<ListenAddress>(&parsed)) return *address;
  return std::nullopt;
}

std::string ListenAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace leakguard
