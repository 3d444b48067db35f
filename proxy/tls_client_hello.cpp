#include "proxy/tls_client_hello.hpp"

#include <algorithm>
#include <bitset>
#include <optional>

namespace leakguard {

namespace {

constexpr std::uint8_t content_type_handshake = 22;
constexpr std::uint8_t handshake_type_client_hello = 1;
constexpr std::size_t record_header_bytes = 5;
constexpr std::size_t handshake_header_bytes = 4;
constexpr std::size_t max_record_payload = 1 << 14;  // RFC 8446 5.1: plaintext records
constexpr std::size_t max_host_name_bytes = 255;     // what OpenSSL and DNS accept

constexpr std::uint16_t extension_server_name = 0;
constexpr std::uint16_t extension_alpn = 16;
constexpr std::uint16_t extension_supported_versions = 43;

// Every read is checked against the end; a failed read leaves the reader unusable, so a parse step
// can chain reads and test once.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - position_; }
  bool empty() const { return remaining() == 0; }

  std::optional<std::uint8_t> u8() {
    if (remaining() < 1) return std::nullopt;
    return data_[position_++];
  }
  std::optional<std::uint16_t> u16() {
    if (remaining() < 2) return std::nullopt;
    const auto value = static_cast<std::uint16_t>(data_[position_] << 8 | data_[position_ + 1]);
    position_ += 2;
    return value;
  }
  std::optional<std::span<const std::uint8_t>> bytes(std::size_t count) {
    if (remaining() < count) return std::nullopt;
    const auto out = data_.subspan(position_, count);
    position_ += count;
    return out;
  }
  // A vector with a one- or two-byte length prefix (RFC 8446 3.4).
  std::optional<std::span<const std::uint8_t>> vector8() {
    const auto length = u8();
    return length ? bytes(*length) : std::nullopt;
  }
  std::optional<std::span<const std::uint8_t>> vector16() {
    const auto length = u16();
    return length ? bytes(*length) : std::nullopt;
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t position_ = 0;
};

bool parse_server_name(std::span<const std::uint8_t> data, ClientHello& hello) {
  Reader reader(data);
  const auto list = reader.vector16();
  if (!list || !reader.empty() || list->empty()) return false;
  Reader entries(*list);
  bool seen_host_name = false;
  while (!entries.empty()) {
    const auto type = entries.u8();
    const auto name = entries.vector16();
    if (!type || !name) return false;
    if (*type != 0) continue;  // only host_name (0) is defined; skip others as RFC 6066 allows
    if (seen_host_name || name->empty() || name->size() > max_host_name_bytes) return false;
    if (std::find(name->begin(), name->end(), std::uint8_t{0}) != name->end()) return false;
    hello.server_name.assign(name->begin(), name->end());
    seen_host_name = true;
  }
  return true;
}

bool parse_alpn(std::span<const std::uint8_t> data, ClientHello& hello) {
  Reader reader(data);
  const auto list = reader.vector16();
  if (!list || !reader.empty() || list->size() < 2) return false;
  Reader protocols(*list);
  while (!protocols.empty()) {
    const auto protocol = protocols.vector8();
    if (!protocol || protocol->empty()) return false;
    hello.alpn.emplace_back(protocol->begin(), protocol->end());
  }
  return true;
}

bool parse_supported_versions(std::span<const std::uint8_t> data, ClientHello& hello) {
  Reader reader(data);
  const auto list = reader.vector8();
  if (!list || !reader.empty() || list->size() < 2 || list->size() % 2 != 0) return false;
  Reader versions(*list);
  while (const auto version = versions.u16()) hello.supported_versions.push_back(*version);
  return true;
}

// The ClientHello body (RFC 8446 4.1.2, which is also the TLS 1.0-1.2 layout).
bool parse_body(std::span<const std::uint8_t> body, ClientHello& hello) {
  Reader reader(body);
  const auto legacy_version = reader.u16();
  const auto random = reader.bytes(32);
  const auto session_id = reader.vector8();
  const auto cipher_suites = reader.vector16();
  const auto compression = reader.vector8();
  if (!legacy_version || !random || !session_id || !cipher_suites || !compression) return false;
  if ((*legacy_version >> 8) != 3 || session_id->size() > 32 || cipher_suites->size() < 2 ||
      cipher_suites->size() % 2 != 0 || compression->empty())
    return false;
  hello.legacy_version = *legacy_version;
  if (reader.empty()) return true;  // a pre-extension (TLS 1.0 era) hello

  const auto extensions = reader.vector16();
  if (!extensions || !reader.empty()) return false;
  Reader list(*extensions);
  std::bitset<65536> seen;  // RFC 8446 4.2: an extension type appears at most once
  while (!list.empty()) {
    const auto type = list.u16();
    const auto data = list.vector16();
    if (!type || !data || seen.test(*type)) return false;
    seen.set(*type);
    bool ok = true;
    switch (*type) {
      case extension_server_name:
        ok = parse_server_name(*data, hello);
        break;
      case extension_alpn:
        ok = parse_alpn(*data, hello);
        break;
      case extension_supported_versions:
        ok = parse_supported_versions(*data, hello);
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return true;
}

ClientHelloParse with_status(ClientHelloStatus status, std::size_t bytes_needed = 0) {
  ClientHelloParse result;
  result.status = status;
  result.bytes_needed = bytes_needed;
  return result;
}

}  // namespace

bool ClientHello::tls13_capable() const {
  return std::find(supported_versions.begin(), supported_versions.end(), tls_version_1_3) != supported_versions.end();
}

ClientHelloParse parse_client_hello(std::span<const std::uint8_t> bytes) {
  using Status = ClientHelloStatus;
  if (bytes.size() > max_client_hello_bytes) bytes = bytes.first(max_client_hello_bytes);

  // The handshake message is reassembled from consecutive handshake records. Most hellos fit in one
  // record; then `message` views the buffer directly and nothing is copied.
  std::vector<std::uint8_t> assembled;
  std::span<const std::uint8_t> message;
  std::uint16_t record_version = 0;
  std::size_t position = 0;
  for (bool first = true;; first = false) {
    const std::size_t available = bytes.size() - position;
    // Whatever the bytes seen so far rule out is reported at once, so plain HTTP or a server-first
    // protocol is recognized from its first byte rather than after a timeout.
    const Status not_a_record = first ? Status::not_tls : Status::malformed;
    if (available >= 1 && bytes[position] != content_type_handshake) return with_status(not_a_record);
    if (available >= 2 && bytes[position + 1] != 3) return with_status(not_a_record);
    if (available >= 3 && bytes[position + 2] > 4) return with_status(not_a_record);
    if (position + record_header_bytes > max_client_hello_bytes) return with_status(Status::malformed);
    if (available < record_header_bytes) return with_status(Status::need_more, position + record_header_bytes);

    const std::size_t length = static_cast<std::size_t>(bytes[position + 3]) << 8 | bytes[position + 4];
    if (length == 0 || length > max_record_payload) return with_status(Status::malformed);
    const std::size_t record_end = position + record_header_bytes + length;
    if (record_end > max_client_hello_bytes) return with_status(Status::malformed);
    if (first) record_version = static_cast<std::uint16_t>(bytes[position + 1] << 8 | bytes[position + 2]);

    // The handshake header is checked over the bytes at hand, even when this record is incomplete,
    // so a wrong message type or an impossible length fails now instead of after more waiting.
    const auto fragment =
        bytes.subspan(position + record_header_bytes, std::min(length, available - record_header_bytes));
    const auto handshake_byte = [&](std::size_t i) {
      return i < message.size() ? message[i] : fragment[i - message.size()];
    };
    const std::size_t handshake_bytes = message.size() + fragment.size();
    if (handshake_bytes >= 1 && handshake_byte(0) != handshake_type_client_hello) return with_status(Status::malformed);
    std::size_t message_end = 0;  // 0: length not visible yet
    if (handshake_bytes >= handshake_header_bytes) {
      const std::size_t body_length = static_cast<std::size_t>(handshake_byte(1)) << 16 |
                                      static_cast<std::size_t>(handshake_byte(2)) << 8 | handshake_byte(3);
      message_end = handshake_header_bytes + body_length;
      // Every record carries at least one byte, so the records need at least one header more.
      if (message_end + record_header_bytes > max_client_hello_bytes) return with_status(Status::malformed);
    }
    if (fragment.size() < length) return with_status(Status::need_more, record_end);

    if (first) {
      message = fragment;
    } else {
      if (assembled.empty()) assembled.assign(message.begin(), message.end());
      assembled.insert(assembled.end(), fragment.begin(), fragment.end());
      message = assembled;
    }
    position = record_end;
    if (message_end == 0 || message.size() < message_end) continue;

    // Bytes after the hello in its last record are not looked at: they are not ours to judge.
    ClientHelloParse result;
    if (!parse_body(message.subspan(handshake_header_bytes, message_end - handshake_header_bytes), result.hello))
      return with_status(Status::malformed);
    result.status = Status::ok;
    result.hello.record_version = record_version;
    result.hello.record_bytes = position;
    return result;
  }
}

}  // namespace leakguard
