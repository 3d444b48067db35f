// The three outputs of `leakguard report`: JSON (the model as data, for scripts), Markdown (for a
// terminal or a ticket) and one self-contained HTML file (for a lab's archive). All three show the
// same model; the HTML page builds its tables and chart from the JSON it embeds.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "reports/baseline_diff.hpp"
#include "reports/report.hpp"

namespace leakguard::reports {

enum class Format { html, markdown, json };
// "html", "md" / "markdown", "json".
std::optional<Format> parse_format(std::string_view name);

// In baseline mode `diff` and `baseline` are set: the diff leads, the new batch's report follows.
struct RenderInput {
  const Report& report;
  const BaselineDiff* diff = nullptr;
  const Report* baseline = nullptr;
};

Json report_to_json(const RenderInput& input);
std::string render_json(const RenderInput& input);
std::string render_markdown(const RenderInput& input);
std::string render_html(const RenderInput& input);
std::string render(Format format, const RenderInput& input);

// "12 connections: 50% decrypted, 25% plaintext, 8% passed through, 8% pinned, 8% raw TCP"
std::string coverage_line(const Coverage& coverage);

}  // namespace leakguard::reports
