// Turns an HTTP request (or a window of a raw stream) into the DecodedView the detectors read:
// target, query, headers, cookies and body fields, then every nested layer (percent, base64, hex,
// gzip/deflate/br, JSON, form, multipart, XML, protobuf, gRPC frames) down to a bounded depth and output size. Bad input
// is data: it ends a layer's decoding quietly, or becomes an Anomaly; it never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/http_message.hpp"
#include "detectors/decoded_view.hpp"
#include "detectors/decoders/compression.hpp"
#include "detectors/finding.hpp"

namespace leakguard {

namespace decoders::protobuf {
class Schema;
struct SchemaMessage;
}  // namespace decoders::protobuf

struct DecodeLimits {
  std::size_t max_depth = 6;                     // decoding layers below a request part
  std::size_t max_decoded_bytes = 8u << 20;      // everything one request's decoding may produce
  std::size_t max_ratio = 100;                   // decompressed : compressed above this ...
  std::size_t ratio_min_output = 256u << 10;     // ... with at least this much output is a bomb
  std::size_t max_fields = 50000;
  std::size_t max_buffers = 4096;
};

class RequestDecoder {
 public:
  RequestDecoder(DecodedView& view, Arena& arena, const DecodeLimits& limits, std::vector<Anomaly>& anomalies)
      : view_(view), arena_(arena), limits_(limits), anomalies_(anomalies) {}

  // Field names for protobuf bodies (descriptor sets); may be null.
  void set_schema(const decoders::protobuf::Schema* schema) { schema_ = schema; }
  // Appends the buffers and fields of `request` to the view. `request` must outlive the view.
  // Headers i with skip_headers[i] != 0 are left out (HeaderMemo: lines found clean before).
  void decode_request(const HttpRequest& request, std::span<const std::uint8_t> skip_headers = {});
  // One window of a raw (non-HTTP) stream: scanned as bytes, nothing decoded. `stream_offset` is
  // the offset of window byte 0 in the stream.
  void add_stream_window(std::string_view window, std::uint64_t stream_offset, std::size_t report_from, bool complete);
  // A standalone value (fuzzing, tests): analysed like a request body of the given Content-Type.
  void decode_body(std::string_view body, std::string_view content_type, std::string_view content_encoding = {},
                   std::string_view grpc_encoding = {});

 private:
  enum class Shape { raw, json, form, xml, multipart, base64, hex, gzip, jwt, protobuf, grpc };
  struct Hint {
    Shape shape = Shape::raw;  // raw: nothing known, sniff
    std::string_view boundary;
    bool grpc_text = false;    // application/grpc-web-text: the frames are base64
  };

  std::uint32_t add_buffer(const ScanBuffer& buffer);
  // A buffer one decoding layer below `parent`, for the value at `where`/`key`; its fields start
  // after the ones found so far.
  ScanBuffer child_buffer(const ScanBuffer& parent, std::string_view bytes, std::string_view encoding, Place where,
                          std::string_view key) const;
  void add_head(const HttpRequest& request, std::span<const std::uint8_t> skip_headers);
  void add_body(std::string_view body, std::string_view content_type, std::string_view content_encoding, Origin origin);
  void analyze_buffer(std::uint32_t buffer, Hint hint, bool allow_percent);
  void expand_field(std::uint32_t buffer, std::uint32_t field, Hint hint);
  void expand_fields(std::uint32_t buffer) { expand_fields(buffer, Hint{}); }
  void expand_fields(std::uint32_t buffer, Hint hint);
  bool parse_json(std::uint32_t buffer);
  bool parse_form(std::uint32_t buffer, std::string_view where_prefix);
  bool parse_xml(std::uint32_t buffer);
  bool parse_multipart(std::uint32_t buffer, std::string_view boundary);
  // request_protobuf.cpp: a message walked in place (fields for its strings and bytes, numbers for
  // its numbers); gRPC / gRPC-web frames, each message a child; a `-bin` metadata header.
  bool parse_protobuf(std::uint32_t buffer);
  bool parse_grpc(std::uint32_t buffer, const Hint& hint);
  void decode_bin_header(std::uint32_t buffer, std::uint32_t field);
  // Decompresses bytes into an owned child analysed with `hint` (gzip and deflate layers inside
  // values and gRPC frames); a bomb becomes an anomaly. True if a child was added.
  bool decompress_child(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key,
                        decoders::Compression compression, Hint hint);
  // Decodes bytes as base64 / hex / gzip / a JWT's base64url part into an owned child buffer;
  // true if a child was added.
  bool decode_child(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key, Shape shape);
  std::uint32_t owned_child(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key,
                            std::string_view layer);
  Shape sniff(std::string_view bytes, bool whole_body) const;
  // A JWT's payload (its claims) decoded into a child; true if it was.
  bool decode_jwt(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key);
  bool budget(std::size_t bytes);
  // A decompression that hit the output bound or the ratio becomes a decompression_bomb anomaly.
  void note_bomb(decoders::DecompressStatus status, std::size_t input, std::size_t output, std::size_t room,
                 const Place& where, std::string_view chain);
  void note_limit(const Place& where, std::string_view encoding);
  std::uint32_t next_group() { return ++groups_; }

  DecodedView& view_;
  Arena& arena_;
  const DecodeLimits& limits_;
  std::vector<Anomaly>& anomalies_;
  std::size_t decoded_bytes_ = 0;
  std::uint32_t groups_ = 0;
  bool limit_noted_ = false;
  std::string_view grpc_encoding_;
  const decoders::protobuf::Schema* schema_ = nullptr;
  const decoders::protobuf::SchemaMessage* root_message_ = nullptr;  // what the body's messages are  // the request's grpc-encoding header (compressed gRPC frames)
};


}  // namespace leakguard
