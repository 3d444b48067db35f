#include "proxy/redaction.hpp"

#include <algorithm>

namespace leakguard {

void redact_in_place(const std::vector<Finding>& findings, HttpRequestHead& head, std::string& body,
                     std::vector<HttpHeader>& trailers) {
  for (const auto& finding : findings) {
    for (const auto& location : finding.locations) {
      std::string* text = nullptr;
      switch (location.part) {
        case RequestPart::target: text = &head.target; break;
        case RequestPart::header:
          if (location.header_index < head.headers.size()) text = &head.headers[location.header_index].value;
          break;
        case RequestPart::trailer:
          if (location.header_index < trailers.size()) text = &trailers[location.header_index].value;
          break;
        case RequestPart::body: text = &body; break;
        case RequestPart::stream: break;
      }
      if (!text || location.offset >= text->size()) continue;
      const auto length = std::min<std::uint64_t>(location.length, text->size() - location.offset);
      text->replace(location.offset, length, length, '*');
    }
  }
}

}  // namespace leakguard
