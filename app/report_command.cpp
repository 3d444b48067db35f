// leakguard report: what each phone leaked, where and how, from event logs (reports/README.md).
// Exit status: 0 report written (no regression in --baseline mode), 1 the new batch leaks what the
// baseline did not (a release gate), 2 an error (usage, an unreadable input, the output).
#include <cctype>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "reports/baseline_diff.hpp"
#include "reports/render.hpp"
#include "reports/report.hpp"

namespace leakguard {
namespace {

constexpr const char* report_usage =
    "usage: leakguard report [-c FILE] [--home-country XX] [--format html|md|json] [-o FILE] EVENTS.jsonl...\n"
    "       leakguard report [options] --baseline OLD.jsonl... -- NEW.jsonl...\n"
    "  event logs may be gzip-compressed (rotated .gz); '-' reads standard input\n"
    "  -c FILE            take home_country from a leakguard configuration\n"
    "  --home-country XX  the lab's country (ISO 3166 alpha-2); overrides -c\n"
    "  --format F         html, md or json (default: from -o's extension, else md)\n"
    "  -o FILE            write there instead of standard output\n"
    "  exit: 0 ok / no regression, 1 regression against --baseline, 2 error\n";

int usage_error(const std::string& message) {
  if (!message.empty()) std::fprintf(stderr, "leakguard report: %s\n", message.c_str());
  std::fputs(report_usage, stderr);
  return 2;
}

bool valid_country(const std::string& code) {
  return code.size() == 2 && std::isalpha(static_cast<unsigned char>(code[0])) &&
         std::isalpha(static_cast<unsigned char>(code[1]));
}

std::optional<reports::Format> format_from_path(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  const auto extension = path.substr(dot + 1);
  if (extension == "htm") return reports::Format::html;
  return reports::parse_format(extension);
}

// Reads every file into one report; false (after a message) when one could not be opened.
bool build(const std::vector<std::string>& files, const std::string& home_country, reports::Report& out) {
  reports::ReportBuilder builder({.home_country = home_country});
  bool ok = true;
  for (const auto& file : files) {
    if (!builder.add_file(file)) ok = false;
  }
  out = builder.finish();
  for (const auto& problem : out.inputs.problems)
    if (problem.whole_file) std::fprintf(stderr, "leakguard report: %s: %s\n", problem.file.c_str(), problem.reason.c_str());
  if (out.inputs.malformed_lines || out.inputs.skipped_findings)
    std::fprintf(stderr, "leakguard report: %llu malformed lines, %llu findings without an identifier (listed in the report)\n",
                 static_cast<unsigned long long>(out.inputs.malformed_lines),
                 static_cast<unsigned long long>(out.inputs.skipped_findings));
  return ok;
}

// A half-written report must never look like a finished one: write beside it, then rename.
bool write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0;
  }
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace

int report_command(Arguments args) {
  std::string config_path, home_country, output;
  std::optional<reports::Format> format;
  std::vector<std::string> current, baseline;
  bool baseline_mode = false;
  bool in_baseline_list = false;  // after --baseline, until an option or "--"
  bool only_files = false;        // after "--"
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string arg(args[i]);
    const bool is_option = !only_files && arg.size() > 1 && arg[0] == '-';
    if (!is_option) {
      (in_baseline_list ? baseline : current).push_back(arg);
      continue;
    }
    in_baseline_list = false;
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return std::string(args[++i]);
    };
    if (arg == "--") {
      only_files = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(report_usage, stdout);
      return 0;
    } else if (arg == "--baseline") {
      baseline_mode = in_baseline_list = true;
    } else if (arg == "-c" || arg == "--config" || arg == "--home-country" || arg == "--format" || arg == "-o" ||
               arg == "--output") {
      const auto given = value();
      if (!given) return usage_error(arg + " needs a value");
      if (arg == "-c" || arg == "--config")
        config_path = *given;
      else if (arg == "--home-country")
        home_country = *given;
      else if (arg == "--format") {
        format = reports::parse_format(*given);
        if (!format) return usage_error("unknown format '" + *given + "' (html, md, json)");
      } else
        output = *given;
    } else {
      return usage_error("unknown option " + arg);
    }
  }
  if (current.empty()) return usage_error(baseline_mode ? "no new event logs after --" : "no event logs given");
  if (baseline_mode && baseline.empty()) return usage_error("--baseline needs at least one event log");

  if (home_country.empty() && !config_path.empty()) {
    try {
      home_country = load_config_file(config_path)->home_country;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "leakguard report: %s\n", error.what());
      return 2;
    }
  }
  if (!home_country.empty() && !valid_country(home_country))
    return usage_error("--home-country wants a two-letter country code, not '" + home_country + "'");
  if (!format) format = format_from_path(output).value_or(reports::Format::markdown);

  reports::Report report, old_report;
  if (!build(current, home_country, report)) return 2;
  std::optional<reports::BaselineDiff> diff;
  if (baseline_mode) {
    if (!build(baseline, home_country, old_report)) return 2;
    diff = reports::diff_reports(old_report, report);
  }
  const reports::RenderInput input{report, diff ? &*diff : nullptr, baseline_mode ? &old_report : nullptr};
  if (!write_output(output, reports::render(*format, input))) {
    std::fprintf(stderr, "leakguard report: cannot write %s\n", output.c_str());
    return 2;
  }
  if (diff && diff->regression()) {
    std::fprintf(stderr, "leakguard report: regression: %zu new leaks, %zu rated worse than in the baseline\n",
                 diff->new_leaks.size(), diff->escalated.size());
    return 1;
  }
  return 0;
}

}  // namespace leakguard
