#include <doctest/doctest.h>

#include <string>

#include "capture/capture_format.hpp"

using namespace leakguard;

TEST_CASE("pcap savefiles are told by their magic in either byte order and timestamp resolution") {
  CHECK(sniff_capture_format(std::string("\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8)) == CaptureFormat::pcap);
  CHECK(sniff_capture_format(std::string("\xa1\xb2\xc3\xd4\x00\x02\x00\x04", 8)) == CaptureFormat::pcap);
  CHECK(sniff_capture_format(std::string("\x4d\x3c\xb2\xa1\x02\x00\x04\x00", 8)) == CaptureFormat::pcap);
  CHECK(sniff_capture_format(std::string("\xa1\xb2\x3c\x4d\x00\x02\x00\x04", 8)) == CaptureFormat::pcap);
}

TEST_CASE("pcapng starts with a Section Header Block") {
  CHECK(sniff_capture_format(std::string("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a", 12)) ==
        CaptureFormat::pcapng);
}

TEST_CASE("a HAR file is JSON with a log member, wherever the member is") {
  CHECK(sniff_capture_format("{\"log\": {\"version\": \"1.2\"}}") == CaptureFormat::har);
  CHECK(sniff_capture_format("\xEF\xBB\xBF\n  {\"comment\": \"x\", \"log\": {}}") == CaptureFormat::har);
  CHECK(sniff_capture_format("{\"entries\": []}") == CaptureFormat::raw);
  CHECK(sniff_capture_format("[{\"log\": 1}]") == CaptureFormat::raw);
}

TEST_CASE("HTTP requests and everything else") {
  CHECK(sniff_capture_format("POST /activate HTTP/1.1\r\nHost: x\r\n\r\n") == CaptureFormat::http);
  CHECK(sniff_capture_format("IMEI=353209091234567") == CaptureFormat::raw);
  CHECK(sniff_capture_format("") == CaptureFormat::raw);
  CHECK(sniff_capture_format("\x16\x03\x01\x00") == CaptureFormat::raw);  // a TLS record is a raw stream
}
