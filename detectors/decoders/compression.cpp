#include "detectors/decoders/compression.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <brotli/decode.h>
#include <zlib.h>

#include "common/ascii.hpp"

namespace leakguard::decoders {
namespace {

constexpr std::size_t chunk = 64 * 1024;

struct ZStream {
  z_stream stream{};
  bool initialised = false;
  ~ZStream() {
    if (initialised) inflateEnd(&stream);
  }
};

// window_bits: 16+15 gzip, 15 zlib, -15 raw deflate.
DecompressStatus inflate_with(int window_bits, std::string_view input, std::string& out, std::size_t max_output) {
  ZStream z;
  if (inflateInit2(&z.stream, window_bits) != Z_OK) return DecompressStatus::error;
  z.initialised = true;
  z.stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.stream.avail_in = static_cast<uInt>(std::min<std::size_t>(input.size(), 0xffffffffu));
  std::size_t produced = 0;
  for (;;) {
    if (produced >= max_output) return DecompressStatus::output_limit;
    const std::size_t room = std::min(chunk, max_output - produced);
    const std::size_t old_size = out.size();
    out.resize(old_size + room);
    z.stream.next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
    z.stream.avail_out = static_cast<uInt>(room);
    const int status = inflate(&z.stream, Z_NO_FLUSH);
    const std::size_t got = room - z.stream.avail_out;
    out.resize(old_size + got);
    produced += got;
    if (status == Z_STREAM_END) {
      // gzip allows several members back to back.
      if (window_bits > 15 && z.stream.avail_in > 0 && inflateReset(&z.stream) == Z_OK) continue;
      return DecompressStatus::ok;
    }
    if (status == Z_BUF_ERROR || (status == Z_OK && got == 0 && z.stream.avail_in == 0))
      return z.stream.avail_in == 0 ? DecompressStatus::truncated : DecompressStatus::error;
    if (status != Z_OK) return DecompressStatus::error;
  }
}

struct BrotliDeleter {
  void operator()(BrotliDecoderState* state) const { BrotliDecoderDestroyInstance(state); }
};

DecompressStatus brotli_decode(std::string_view input, std::string& out, std::size_t max_output) {
  std::unique_ptr<BrotliDecoderState, BrotliDeleter> state(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr));
  if (!state) return DecompressStatus::error;
  std::size_t available_in = input.size();
  const auto* next_in = reinterpret_cast<const std::uint8_t*>(input.data());
  std::size_t produced = 0;
  for (;;) {
    if (produced >= max_output) return DecompressStatus::output_limit;
    const std::size_t room = std::min(chunk, max_output - produced);
    const std::size_t old_size = out.size();
    out.resize(old_size + room);
    std::size_t available_out = room;
    auto* next_out = reinterpret_cast<std::uint8_t*>(out.data() + old_size);
    const BrotliDecoderResult result =
        BrotliDecoderDecompressStream(state.get(), &available_in, &next_in, &available_out, &next_out, nullptr);
    const std::size_t got = room - available_out;
    out.resize(old_size + got);
    produced += got;
    switch (result) {
      case BROTLI_DECODER_RESULT_SUCCESS: return DecompressStatus::ok;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: continue;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: return DecompressStatus::truncated;
      default: return DecompressStatus::error;
    }
  }
}

}  // namespace

std::optional<Compression> compression_from_token(std::string_view token) {
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (iequals(token, "gzip") || iequals(token, "x-gzip")) return Compression::gzip;
  if (iequals(token, "deflate")) return Compression::deflate;
  if (iequals(token, "br")) return Compression::brotli;
  return std::nullopt;
}

std::string_view to_string(Compression compression) {
  switch (compression) {
    case Compression::gzip: return "gzip";
    case Compression::deflate: return "deflate";
    case Compression::brotli: return "br";
  }
  return "gzip";
}

bool looks_like_gzip(std::string_view bytes) {
  return bytes.size() >= 10 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b;
}

DecompressStatus decompress(Compression compression, std::string_view input, std::string& out, std::size_t max_output) {
  switch (compression) {
    case Compression::gzip:
      return inflate_with(16 + MAX_WBITS, input, out, max_output);
    case Compression::deflate: {
      // "deflate" should be zlib-wrapped (RFC 9110), but servers and clients also send raw deflate.
      const std::size_t start = out.size();
      const DecompressStatus wrapped = inflate_with(MAX_WBITS, input, out, max_output);
      if (wrapped != DecompressStatus::error || out.size() > start) return wrapped;
      out.resize(start);
      return inflate_with(-MAX_WBITS, input, out, max_output);
    }
    case Compression::brotli:
      return brotli_decode(input, out, max_output);
  }
  return DecompressStatus::error;
}

}  // namespace leakguard::decoders
