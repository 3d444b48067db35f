// The HTML report: one file with its CSS, script and data inline, so it opens from an archive or
// a mail attachment with no network at all (a lab's machines often have none). The page's script
// builds the tables and the SVG chart from the embedded JSON with DOM calls (textContent only), so
// a hostile host name in a log can never become markup.
#include "reports/render.hpp"

namespace leakguard::reports {
namespace {

constexpr std::string_view page_head = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>leakguard report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 .3em; }
h2 { font-size: 1.2em; margin: 1.4em 0 .4em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1em 0 .3em; }
table { border-collapse: collapse; margin: .3em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
table.sortable th { cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \25B2"; }
th[aria-sort=descending]::after { content: " \25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sev { display: inline-block; min-width: 5.5em; padding: 0 .4em; border-radius: 3px; color: #fff; }
.sev5 { background: #b71c1c; } .sev4 { background: #e65100; } .sev3 { background: #c79100; }
.sev2 { background: #558b2f; } .sev1 { background: #607d8b; } .sev0 { background: #aaa; }
.banner { padding: .6em 1em; border-radius: 4px; font-weight: bold; margin: .5em 0; }
.banner.regression { background: #fdecea; color: #b71c1c; border: 1px solid #b71c1c; }
.banner.ok { background: #edf7ed; color: #1e4620; border: 1px solid #1e4620; }
.muted { color: #666; }
#chart svg text { font: 12px system-ui, sans-serif; }
</style>
</head>
<body>
<h1>leakguard report</h1>
<p id="summary" class="muted"></p>
<div id="baseline"></div>
<h2>Devices</h2>
<div id="devices"></div>
<h2>Leaks per device and destination</h2>
<div id="chart"></div>
<h2>Leaks</h2>
<p class="muted">One row per device, destination and identifier kind. Click a column heading to sort.</p>
<div id="leaks"></div>
<h2>Severity scale</h2>
<p class="muted">Base by identifier class: hardware (imei, imsi, iccid, serial, mac) 3, personal (msisdn,
email, location, cell and kinds added later) 2, resettable (gaid, android_id) 1; +1 in plaintext (HTTP,
raw TCP); +1 abroad (a country other than the home country, or unknown). It rates what the phone sent,
whatever leakguard did with it.</p>
<div id="scale"></div>
<h2>Inputs</h2>
<div id="inputs"></div>
<script type="application/json" id="report-data">)HTML";

constexpr std::string_view page_tail = R"HTML(</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("report-data").textContent);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}
function severityBadge(severity, label) {
  return el("span", {class: "sev sev" + severity}, severity ? severity + " " + label : "-");
}
function list(values) { return (values || []).join(", ") || "-"; }
function actions(map) { return Object.entries(map || {}).map(([k, v]) => k + " " + v).join(", ") || "-"; }

// A table whose headings sort it: columns are {title, key, numeric, render}.
function table(id, columns, rows, sortable) {
  const head = el("tr", {});
  const body = el("tbody", {});
  const node = el("table", {id: id, class: sortable ? "sortable" : ""}, el("thead", {}, head), body);
  function fill(ordered) {
    body.replaceChildren();
    for (const row of ordered) {
      const tr = el("tr", {});
      if (row.severity !== undefined) tr.setAttribute("data-severity", row.severity);
      for (const column of columns) {
        const value = column.render ? column.render(row) : row[column.key];
        tr.append(el("td", column.numeric ? {class: "num"} : {}, value === undefined || value === "" ? "-" : value));
      }
      body.append(tr);
    }
  }
  columns.forEach((column) => {
    const th = el("th", {scope: "col", "data-key": column.key}, column.title);
    if (sortable) th.addEventListener("click", () => {
      const descending = th.getAttribute("aria-sort") !== "descending";
      head.querySelectorAll("th").forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      const key = column.sortKey || column.key;
      const ordered = rows.slice().sort((a, b) => {
        const x = a[key], y = b[key];
        const order = column.numeric ? (x - y) : String(x).localeCompare(String(y));
        return descending ? -order : order;
      });
      fill(ordered);
    });
    head.append(th);
  });
  fill(rows);
  return node;
}

function inputsText(inputs) {
  return inputs.files.length + " file(s), " + inputs.lines + " lines, " + inputs.events + " events, " +
    inputs.malformed_lines + " malformed lines, " + inputs.read_errors + " read errors";
}

document.getElementById("summary").textContent = "Home country: " +
  (data.home_country || "not set (every destination counts as abroad)") + ". " + inputsText(data.inputs) + ".";

if (data.baseline) {
  const b = data.baseline;
  const box = document.getElementById("baseline");
  box.append(el("h2", {}, "Compared with the baseline"));
  box.append(el("div", {id: "verdict", class: "banner " + (b.regression ? "regression" : "ok")},
    b.regression ? "Regression: the new batch leaks what the baseline did not" : "No regression"));
  box.append(el("p", {}, "New destinations: " + list(b.new_destinations)));
  box.append(el("p", {}, "New identifier kinds: " + list(b.new_identifiers)));
  const columns = [
    {title: "Severity", key: "severity", numeric: true, render: (r) => severityBadge(r.severity, r.severity_label)},
    {title: "Destination", key: "destination"}, {title: "Countries", key: "countries", render: (r) => list(r.countries)},
    {title: "Identifier", key: "identifier"}, {title: "Count", key: "count", numeric: true},
    {title: "Devices", key: "devices", render: (r) => list(r.devices)}];
  for (const [title, key, id] of [["New leaks", "new_leaks", "diff-new"], ["Rated worse than in the baseline", "escalated", "diff-escalated"], ["Gone", "gone", "diff-gone"]]) {
    box.append(el("h3", {}, title + " (" + b[key].length + ")"));
    const extra = key === "escalated" ? [{title: "Was", key: "baseline_severity", numeric: true}] : [];
    if (b[key].length) box.append(table(id, columns.slice(0, 1).concat(extra, columns.slice(1)), b[key], true));
  }
  if (b.inputs) box.append(el("p", {class: "muted"}, "Baseline: " + inputsText(b.inputs) + "."));
}

document.getElementById("devices").append(data.devices.length ? table("devices-table", [
  {title: "Device", key: "device"},
  {title: "Worst", key: "max_severity", numeric: true, render: (r) => severityBadge(r.max_severity, ["", "info", "low", "medium", "high", "critical"][r.max_severity] || "")},
  {title: "Findings", key: "findings", numeric: true},
  {title: "Identifiers", key: "identifiers", render: (r) => list(r.identifiers)},
  {title: "Destinations", key: "destinations", numeric: true},
  {title: "Coverage", key: "coverage_line"},
  {title: "DNS", key: "dns_line"}], data.devices, true) : el("p", {}, "No devices in the input."));

// The chart: one bar per device and destination (all identifier kinds together), grouped by
// device, coloured by the worst severity, longest first; at most 60 bars stay readable.
(function chart() {
  const pairs = new Map();
  for (const row of data.leaks) {
    const destination = row.host || row.ip || "?";
    const key = row.device + "\u0000" + destination;
    const pair = pairs.get(key) || {device: row.device, destination: destination, count: 0, severity: 0, kinds: new Set()};
    pair.count += row.count;
    pair.severity = Math.max(pair.severity, row.severity);
    pair.kinds.add(row.identifier);
    pairs.set(key, pair);
  }
  const deviceOrder = new Map(data.devices.map((d, i) => [d.device, i]));
  const bars = [...pairs.values()].sort((a, b) =>
    ((deviceOrder.get(a.device) ?? 1e9) - (deviceOrder.get(b.device) ?? 1e9)) || (b.count - a.count)).slice(0, 60);
  const box = document.getElementById("chart");
  if (!bars.length) { box.append(el("p", {}, "No findings.")); return; }
  const ns = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const max = Math.max(...bars.map((b) => b.count));
  const labelWidth = 360, barWidth = 520, rowHeight = 20;
  let y = 4, lastDevice = null;
  const svg = svgEl("svg", {id: "chart-svg", role: "img", "aria-label": "Leaks per device and destination"});
  const colours = ["#aaa", "#607d8b", "#558b2f", "#c79100", "#e65100", "#b71c1c"];
  for (const bar of bars) {
    if (bar.device !== lastDevice) {
      svg.append(svgEl("text", {x: 0, y: y + 14, "font-weight": "bold", class: "chart-device"}, bar.device));
      y += rowHeight;
      lastDevice = bar.device;
    }
    const width = Math.max(2, Math.round(barWidth * bar.count / max));
    const group = svgEl("g", {class: "bar", "data-device": bar.device, "data-destination": bar.destination, "data-count": bar.count});
    group.append(svgEl("title", {}, bar.device + " \u2192 " + bar.destination + ": " + bar.count + " (" + [...bar.kinds].join(", ") + ")"));
    group.append(svgEl("text", {x: 12, y: y + 14}, bar.destination.length > 48 ? bar.destination.slice(0, 47) + "\u2026" : bar.destination));
    group.append(svgEl("rect", {x: labelWidth, y: y + 3, width: width, height: rowHeight - 6, fill: colours[bar.severity] || "#aaa"}));
    group.append(svgEl("text", {x: labelWidth + width + 6, y: y + 14}, bar.count + " " + [...bar.kinds].join(", ")));
    svg.append(group);
    y += rowHeight;
  }
  svg.setAttribute("width", labelWidth + barWidth + 260);
  svg.setAttribute("height", y + 4);
  box.append(svg);
})();

document.getElementById("leaks").append(data.leaks.length ? table("leaks-table", [
  {title: "Severity", key: "severity", numeric: true, render: (r) => severityBadge(r.severity, r.severity_label)},
  {title: "Device", key: "device"}, {title: "Host", key: "host"}, {title: "IP", key: "ip"},
  {title: "Country", key: "country"}, {title: "Identifier", key: "identifier"},
  {title: "Count", key: "count", numeric: true}, {title: "First seen", key: "first_seen"},
  {title: "Last seen", key: "last_seen"}, {title: "Transports", key: "transports", render: (r) => list(r.transports)},
  {title: "Encodings", key: "encodings", render: (r) => list(r.encodings)},
  {title: "Actions", key: "actions", render: (r) => actions(r.actions)}], data.leaks, true) : el("p", {}, "No findings."));

document.getElementById("scale").append(table("scale-table", [
  {title: "Class", key: "class"}, {title: "Plaintext", key: "plaintext", render: (r) => r.plaintext ? "yes" : "no"},
  {title: "Abroad", key: "abroad", render: (r) => r.abroad ? "yes" : "no"},
  {title: "Severity", key: "severity", numeric: true, render: (r) => severityBadge(r.severity, r.label)}], data.severity_scale, false));

(function inputs() {
  const box = document.getElementById("inputs");
  box.append(el("p", {}, "Files: " + list(data.inputs.files)));
  box.append(el("p", {}, "Event types: " + (Object.entries(data.inputs.event_types).map(([k, v]) => k + " " + v).join(", ") || "-")));
  if (data.inputs.problems.length) {
    const ul = el("ul", {id: "problems"});
    for (const p of data.inputs.problems) ul.append(el("li", {}, p.file + (p.line ? ":" + p.line : "") + ": " + p.reason));
    if (data.inputs.problems_not_listed) ul.append(el("li", {}, "... and " + data.inputs.problems_not_listed + " more malformed lines"));
    box.append(ul);
  }
})();
document.body.setAttribute("data-rendered", "yes");
</script>
</body>
</html>
)HTML";

// Inside <script>, "</script>" or "<!--" in a host name would end or confuse the element. The
// characters < > & only occur inside JSON strings, where \u escapes mean the same thing.
std::string script_safe_json(const Json& value) {
  const std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string render_html(const RenderInput& input) {
  std::string out(page_head);
  out += script_safe_json(report_to_json(input));
  out += page_tail;
  return out;
}

}  // namespace leakguard::reports
