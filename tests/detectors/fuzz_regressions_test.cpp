// Inputs that once made a fuzz target fail (fuzz/regressions/TARGET/*, copied from
// build-fuzz/artifacts by whoever fixed the bug) stay tests: each goes through the request path
// and the body path of every Content-Type, and must come back without crashing.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/detectors/test_support.hpp"

using namespace leakguard;

TEST_CASE("fuzz regression inputs") {
  const std::filesystem::path root = LEAKGUARD_SOURCE_DIR "/fuzz/regressions";
  if (!std::filesystem::exists(root)) return;  // none yet: the fuzzers have found nothing to keep
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  LearnedValues learned;
  InspectionContext context;
  context.device = inspector.device("lab-phone-01");
  context.learned = &learned;
  std::size_t inputs = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = test::read_file(entry.path().string());
    CAPTURE(entry.path().string());
    test::scan_capture(inspector, bytes, context, 1 + bytes.size() % 97);
    for (const char* type : {"application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ",
                             "text/xml", "text/plain"})
      for (const char* coding : {"", "gzip", "deflate", "br"}) {
        InspectionResult result;
        inspector.inspect_body(bytes, type, coding, context, result);
      }
    ++inputs;
  }
  MESSAGE(inputs << " regression inputs replayed");
}
