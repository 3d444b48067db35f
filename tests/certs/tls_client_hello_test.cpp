#include "proxy/tls_client_hello.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "certs/openssl_ptr.hpp"

using namespace leakguard;
using Bytes = std::vector<std::uint8_t>;

namespace {

struct HelloOptions {
  std::string server_name;
  std::vector<std::string> alpn;
  int max_version = 0;        // 0: OpenSSL's default (TLS 1.3)
  unsigned max_fragment = 0;  // 0: default; OpenSSL then splits handshake messages into records
};

// A real ClientHello: what an OpenSSL client writes when it starts a handshake.
Bytes openssl_client_hello(const HelloOptions& options) {
  ossl::SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  REQUIRE(context);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(context.get(), options.max_version);
  ossl::SslPtr ssl(SSL_new(context.get()));
  REQUIRE(ssl);
  if (!options.server_name.empty()) REQUIRE(SSL_set_tlsext_host_name(ssl.get(), options.server_name.c_str()) == 1);
  if (!options.alpn.empty()) {
    Bytes wire;
    for (const auto& protocol : options.alpn) {
      wire.push_back(static_cast<std::uint8_t>(protocol.size()));
      wire.insert(wire.end(), protocol.begin(), protocol.end());
    }
    REQUIRE(SSL_set_alpn_protos(ssl.get(), wire.data(), static_cast<unsigned>(wire.size())) == 0);
  }
  if (options.max_fragment != 0) REQUIRE(SSL_set_max_send_fragment(ssl.get(), options.max_fragment) == 1);
  BIO* input = BIO_new(BIO_s_mem());
  BIO* output = BIO_new(BIO_s_mem());
  REQUIRE(input);
  REQUIRE(output);
  SSL_set_bio(ssl.get(), input, output);  // the SSL owns both now
  SSL_set_connect_state(ssl.get());
  REQUIRE(SSL_do_handshake(ssl.get()) == -1);
  REQUIRE(SSL_get_error(ssl.get(), -1) == SSL_ERROR_WANT_READ);
  char* data = nullptr;
  const long size = BIO_get_mem_data(output, &data);
  REQUIRE(size > 0);
  return Bytes(reinterpret_cast<std::uint8_t*>(data), reinterpret_cast<std::uint8_t*>(data) + size);
}

void append_u16(Bytes& out, std::size_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

Bytes record(std::span<const std::uint8_t> fragment, std::uint8_t type = 22) {
  Bytes out{type, 3, 1};
  append_u16(out, fragment.size());
  out.insert(out.end(), fragment.begin(), fragment.end());
  return out;
}

// The handshake message carried by a buffer of records.
Bytes handshake_payload(const Bytes& records) {
  Bytes out;
  for (std::size_t position = 0; position + 5 <= records.size();) {
    const std::size_t length = static_cast<std::size_t>(records[position + 3]) << 8 | records[position + 4];
    out.insert(out.end(), records.begin() + static_cast<long>(position + 5),
               records.begin() + static_cast<long>(position + 5 + length));
    position += 5 + length;
  }
  return out;
}

// Re-frames a handshake message into records cut at the given offsets.
Bytes split_records(const Bytes& message, std::vector<std::size_t> cuts) {
  Bytes out;
  std::size_t start = 0;
  cuts.push_back(message.size());
  for (const std::size_t cut : cuts) {
    const Bytes piece = record(std::span(message).subspan(start, cut - start));
    out.insert(out.end(), piece.begin(), piece.end());
    start = cut;
  }
  return out;
}

Bytes extension(std::uint16_t type, const Bytes& data) {
  Bytes out;
  append_u16(out, type);
  append_u16(out, data.size());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// A hand-made ClientHello message (handshake header included) with the given extensions block.
Bytes synthetic_message(const std::vector<Bytes>& extensions, bool with_extensions = true) {
  Bytes body{3, 3};
  body.resize(body.size() + 32, 0xab);  // random
  body.push_back(0);                    // session id
  append_u16(body, 2);
  body.push_back(0x13);
  body.push_back(0x01);  // TLS_AES_128_GCM_SHA256
  body.push_back(1);
  body.push_back(0);  // null compression
  if (with_extensions) {
    Bytes block;
    for (const auto& e : extensions) block.insert(block.end(), e.begin(), e.end());
    append_u16(body, block.size());
    body.insert(body.end(), block.begin(), block.end());
  }
  Bytes message{1, static_cast<std::uint8_t>(body.size() >> 16), static_cast<std::uint8_t>(body.size() >> 8),
                static_cast<std::uint8_t>(body.size())};
  message.insert(message.end(), body.begin(), body.end());
  return message;
}

Bytes sni_extension(const std::string& name) {
  Bytes entry{0};
  append_u16(entry, name.size());
  entry.insert(entry.end(), name.begin(), name.end());
  Bytes data;
  append_u16(data, entry.size());
  data.insert(data.end(), entry.begin(), entry.end());
  return extension(0, data);
}

ClientHelloParse parse(const Bytes& bytes) { return parse_client_hello(bytes); }
ClientHelloParse parse(std::string_view text) {
  return parse_client_hello(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::size_t record_count(const Bytes& bytes) {
  std::size_t count = 0;
  for (std::size_t position = 0; position + 5 <= bytes.size(); ++count)
    position += 5 + (static_cast<std::size_t>(bytes[position + 3]) << 8 | bytes[position + 4]);
  return count;
}

}  // namespace

TEST_CASE("a TLS 1.3 ClientHello with SNI and ALPN") {
  const Bytes hello = openssl_client_hello({.server_name = "zzhc.example.cn", .alpn = {"h2", "http/1.1"}});
  const auto result = parse(hello);
  REQUIRE(result.status == ClientHelloStatus::ok);
  CHECK(result.hello.server_name == "zzhc.example.cn");
  CHECK(result.hello.has_server_name());
  CHECK(result.hello.alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(result.hello.tls13_capable());
  CHECK(result.hello.supported_versions == std::vector<std::uint16_t>{0x0304, 0x0303, 0x0302, 0x0301});
  CHECK(result.hello.legacy_version == 0x0303);
  CHECK(result.hello.record_version == 0x0301);
  CHECK(result.hello.record_bytes == hello.size());
}

TEST_CASE("bytes after the hello are left alone") {
  Bytes buffer = openssl_client_hello({.server_name = "example.com"});
  const std::size_t hello_size = buffer.size();
  const Bytes early = record(Bytes(40, 0x55), 23);
  buffer.insert(buffer.end(), early.begin(), early.end());
  const auto result = parse(buffer);
  REQUIRE(result.status == ClientHelloStatus::ok);
  CHECK(result.hello.record_bytes == hello_size);
}

TEST_CASE("a hello without SNI or ALPN") {
  const auto result = parse(openssl_client_hello({}));
  REQUIRE(result.status == ClientHelloStatus::ok);
  CHECK(result.hello.server_name.empty());
  CHECK_FALSE(result.hello.has_server_name());
  CHECK(result.hello.alpn.empty());
  CHECK(result.hello.tls13_capable());
}

TEST_CASE("a TLS 1.2-only hello has no supported_versions") {
  const auto result = parse(openssl_client_hello({.server_name = "example.com", .max_version = TLS1_2_VERSION}));
  REQUIRE(result.status == ClientHelloStatus::ok);
  CHECK(result.hello.supported_versions.empty());
  CHECK_FALSE(result.hello.tls13_capable());
  CHECK(result.hello.legacy_version == 0x0303);
  CHECK(result.hello.server_name == "example.com");
}

TEST_CASE("every truncation asks for more bytes, and for no more than the hello holds") {
  const Bytes hello = openssl_client_hello({.server_name = "example.com", .alpn = {"http/1.1"}});
  for (std::size_t length = 0; length < hello.size(); ++length) {
    CAPTURE(length);
    const auto result = parse_client_hello(std::span(hello).first(length));
    REQUIRE(result.status == ClientHelloStatus::need_more);
    CHECK(result.bytes_needed > length);
    CHECK(result.bytes_needed <= hello.size());
  }
  CHECK(parse(Bytes{}).bytes_needed == 5);
  CHECK(parse(Bytes{22, 3, 1}).bytes_needed == 5);
  CHECK(parse(Bytes(hello.begin(), hello.begin() + 5)).bytes_needed == hello.size());
}

TEST_CASE("a hello that OpenSSL itself fragments over several records") {
  std::vector<std::string> protocols;
  for (int i = 0; i < 40; ++i) protocols.push_back("protocol-number-" + std::to_string(i));
  const Bytes hello = openssl_client_hello({.server_name = "frag.example", .alpn = protocols, .max_fragment = 512});
  REQUIRE(record_count(hello) >= 2);
  const auto result = parse(hello);
  REQUIRE(result.status == ClientHelloStatus::ok);
  CHECK(result.hello.server_name == "frag.example");
  CHECK(result.hello.alpn == protocols);
  CHECK(result.hello.record_bytes == hello.size());
  for (std::size_t length = 0; length < hello.size(); ++length) {
    const auto partial = parse_client_hello(std::span(hello).first(length));
    REQUIRE(partial.status == ClientHelloStatus::need_more);
    CHECK(partial.bytes_needed > length);
    CHECK(partial.bytes_needed <= hello.size());
  }
}

TEST_CASE("a hello split across two records at any point, or three with the header split") {
  const Bytes message = handshake_payload(openssl_client_hello({.server_name = "split.example", .alpn = {"h2"}}));
  for (std::size_t cut = 1; cut < message.size(); ++cut) {
    CAPTURE(cut);
    const Bytes records = split_records(message, {cut});
    const auto result = parse(records);
    REQUIRE(result.status == ClientHelloStatus::ok);
    CHECK(result.hello.server_name == "split.example");
    CHECK(result.hello.alpn == std::vector<std::string>{"h2"});
    CHECK(result.hello.record_bytes == records.size());
  }
  const auto three = parse(split_records(message, {1, 3}));
  REQUIRE(three.status == ClientHelloStatus::ok);
  CHECK(three.hello.server_name == "split.example");
}

TEST_CASE("a hello bigger than one record, and one bigger than the bound") {
  Bytes padding_data(20000, 0);
  Bytes message = synthetic_message({sni_extension("big.example"), extension(21, padding_data)});
  REQUIRE(message.size() > 16384);
  const Bytes records = split_records(message, {16384});
  const auto result = parse(records);
  REQUIRE(result.status == ClientHelloStatus::ok);
  CHECK(result.hello.server_name == "big.example");

  const Bytes huge = synthetic_message({extension(21, Bytes(40000, 0))});
  CHECK(parse(split_records(huge, {16000, 32000})).status == ClientHelloStatus::malformed);
  // The declared length alone already rules it out: no need to wait for the rest.
  CHECK(parse(Bytes{22, 3, 1, 0x40, 0x00, 1, 0x00, 0x9c, 0x40}).status == ClientHelloStatus::malformed);
}

TEST_CASE("bytes that are not a TLS handshake") {
  CHECK(parse("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").status == ClientHelloStatus::not_tls);
  CHECK(parse("G").status == ClientHelloStatus::not_tls);
  CHECK(parse("SSH-2.0-OpenSSH_9.2\r\n").status == ClientHelloStatus::not_tls);
  CHECK(parse(Bytes{23, 3, 3, 0, 5, 1, 2, 3, 4, 5}).status == ClientHelloStatus::not_tls);  // application data
  CHECK(parse(Bytes{22, 2}).status == ClientHelloStatus::not_tls);
  CHECK(parse(Bytes{22, 3, 9}).status == ClientHelloStatus::not_tls);
  CHECK(parse(Bytes{0x80, 0x2e, 0x01, 0x03, 0x01}).status == ClientHelloStatus::not_tls);  // SSLv2 hello
  CHECK(parse(Bytes{22}).status == ClientHelloStatus::need_more);
}

TEST_CASE("malformed hellos are reported, not trusted") {
  const Bytes good = synthetic_message({sni_extension("ok.example")});
  REQUIRE(parse(record(good)).status == ClientHelloStatus::ok);
  // An extension-less (TLS 1.0 era) hello is fine.
  CHECK(parse(record(synthetic_message({}, false))).status == ClientHelloStatus::ok);

  const auto malformed = [](const Bytes& bytes) { return parse(bytes).status == ClientHelloStatus::malformed; };
  CHECK(malformed(Bytes{22, 3, 1, 0, 0}));              // empty record
  CHECK(malformed(Bytes{22, 3, 1, 0x40, 0x01}));        // record over 2^14
  CHECK(malformed(Bytes{22, 3, 1, 0, 4, 2, 0, 0, 0}));  // a ServerHello
  CHECK(malformed(Bytes{22, 3, 1, 0, 1, 2}));           // wrong type seen in a partial record
  {
    Bytes records = split_records(good, {10});
    records[5 + 10] = 21;  // the second record is an alert
    CHECK(malformed(records));
  }
  CHECK(malformed(record(synthetic_message({sni_extension("a.example"), sni_extension("b.example")}))));
  CHECK(malformed(record(synthetic_message({sni_extension("")}))));
  CHECK(malformed(record(synthetic_message({sni_extension(std::string("a\0b", 3))}))));
  CHECK(malformed(record(synthetic_message({sni_extension(std::string(256, 'a'))}))));
  CHECK(malformed(record(synthetic_message({extension(0, {})}))));               // empty SNI extension
  CHECK(malformed(record(synthetic_message({extension(16, {0, 3, 1, 'h'})}))));  // ALPN overruns
  CHECK(malformed(record(synthetic_message({extension(16, {0, 1, 0})}))));       // empty protocol
  CHECK(malformed(record(synthetic_message({extension(16, {0, 2, 2, 'h'})}))));  // protocol overruns list
  CHECK(malformed(record(synthetic_message({extension(43, {3, 3, 4, 3})}))));    // odd version list
  CHECK(malformed(record(synthetic_message({extension(43, {2, 3, 4, 9})}))));    // trailing byte
  {
    Bytes message = good;
    message.push_back(0);  // a byte after the extensions block
    message[3] = static_cast<std::uint8_t>(message[3] + 1);
    CHECK(malformed(record(message)));
  }
  {
    Bytes message = good;
    message[4 + 2 + 32] = 33;  // session id longer than 32
    CHECK(malformed(record(message)));
  }
  {
    Bytes message = good;
    message[4] = 2;  // legacy_version 0x0203
    CHECK(malformed(record(message)));
  }
}

TEST_CASE("GREASE versions are kept; TLS 1.3 is still recognized") {
  const auto result = parse(record(synthetic_message({extension(43, {6, 0x0a, 0x0a, 0x03, 0x04, 0x03, 0x03})})));
  REQUIRE(result.status == ClientHelloStatus::ok);
  CHECK(result.hello.supported_versions == std::vector<std::uint16_t>{0x0a0a, 0x0304, 0x0303});
  CHECK(result.hello.tls13_capable());
}

TEST_CASE("random mutations never break the parser's promises") {
  const Bytes seed = openssl_client_hello({.server_name = "fuzz.example", .alpn = {"h2", "http/1.1"}});
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::size_t ok = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes input = seed;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (next() % 3) {
        case 0:
          input[next() % input.size()] = static_cast<std::uint8_t>(next());
          break;
        case 1:
          input.resize(next() % (input.size() + 1));
          if (input.empty()) input.push_back(22);
          break;
        default:
          input.insert(input.begin() + static_cast<long>(next() % input.size()), static_cast<std::uint8_t>(next()));
      }
    }
    const auto result = parse(input);
    switch (result.status) {
      case ClientHelloStatus::ok:
        ++ok;
        REQUIRE(result.hello.record_bytes <= input.size());
        REQUIRE(result.hello.server_name.size() <= 255);
        break;
      case ClientHelloStatus::need_more:
        REQUIRE(result.bytes_needed > input.size());
        REQUIRE(result.bytes_needed <= max_client_hello_bytes);
        break;
      default:
        break;
    }
  }
  CHECK(ok > 0);
}
