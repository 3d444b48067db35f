#include "detectors/inspector.hpp"

#include "detectors/decoders/protobuf_schema.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <tuple>
#include <unordered_map>

#include "detectors/known_identifiers/known_index.hpp"
#include "detectors/registry.hpp"

namespace leakguard {

struct InspectorCore {
  std::uint64_t generation = 0;  // unique per core: what a HeaderMemo's contents were found clean under
  ConfigSnapshot config;
  std::vector<std::shared_ptr<const Detector>> detectors;
  std::vector<std::string_view> learning_detectors;
  DecodeLimits limits;
  std::shared_ptr<const decoders::protobuf::Schema> schema;  // descriptor sets; null without
};

namespace {

// Per-thread state reused across calls so that steady traffic allocates (almost) nothing.
struct Workspace {
  DecodedView view;
  Arena arena;
  std::vector<Finding> findings;
  std::vector<std::uint8_t> skip_headers;  // HeaderMemo::match's answer for the request
  bool busy = false;
};
thread_local Workspace workspace;

// Takes the thread's workspace, or a fresh one if a caller re-entered (a detector never does).
class WorkspaceLease {
 public:
  WorkspaceLease() {
    if (workspace.busy) {
      own_ = std::make_unique<Workspace>();
      ws_ = own_.get();
    } else {
      ws_ = &workspace;
    }
    ws_->busy = true;
    ws_->view.clear();
    ws_->arena.reset();
    ws_->findings.clear();
  }
  ~WorkspaceLease() { ws_->busy = false; }
  Workspace& operator*() { return *ws_; }
  Workspace* operator->() { return ws_; }

 private:
  std::unique_ptr<Workspace> own_;
  Workspace* ws_;
};

std::size_t device_index(const Config& config, const DeviceProfile* device) {
  if (!device) return static_cast<std::size_t>(-1);
  // A profile of this configuration (the usual case): its place, not a walk over 1,000 profiles.
  const DeviceProfile* first = config.devices.data();
  if (std::less_equal<>{}(first, device) && std::less<>{}(device, first + config.devices.size()))
    return static_cast<std::size_t>(device - first);
  for (std::size_t i = 0; i < config.devices.size(); ++i)
    if (config.devices[i].name == device->name) return i;
  return static_cast<std::size_t>(-1);
}

std::uint64_t next_generation() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

// `learned`: the device's learned values as the caller read them (context.learned->index()).
DetectionNotes run_detectors(const InspectorCore& core, DecodedView& view, const InspectionContext& context,
                             const known::KnownIndex* learned, std::vector<Finding>& findings) {
  view.build_classes();
  DetectionNotes notes;
  DetectionContext detection;
  detection.device = context.device;
  detection.device_index = device_index(*core.config, context.device);
  detection.learned = learned;
  detection.notes = &notes;
  for (const auto& detector : core.detectors) detector->inspect(view, detection, findings);
  return notes;
}

DetectionNotes run_detectors(const InspectorCore& core, DecodedView& view, const InspectionContext& context,
                             std::vector<Finding>& findings) {
  std::shared_ptr<const known::KnownIndex> learned;
  if (context.learned) learned = context.learned->index();
  return run_detectors(core, view, context, learned.get(), findings);
}

// `kept` now also stands for `other`, a copy of the same identifier that is not reported on its
// own. Redaction must then mask both copies or neither: `kept` takes the other's locations, or has
// none (and so is not redactable: the rule's `otherwise` applies) when the other copy has no place
// in the request as sent. The other's matched texts stay secrets the event writer masks.
void absorb(Finding& kept, const Finding& other) {
  if (other.locations.empty()) {
    kept.locations.clear();
  } else if (!kept.locations.empty()) {
    kept.locations.insert(kept.locations.end(), other.locations.begin(), other.locations.end());
  }
  kept.matched.insert(kept.matched.end(), other.matched.begin(), other.matched.end());  // made unique in settle()
}

// One finding per identifier and place; a heuristic finding of a value the known detector
// reported is dropped (the known one says more); heuristic values join the learned store. A
// finding left out is absorbed by the one that stands for it, so that redaction still masks it:
// a log field naming the IMEI on every line is one finding with every line's location.
void settle(const InspectorCore& core, std::vector<Finding>& findings, const InspectionContext& context,
            std::unordered_set<std::string>* reported, InspectionResult& out) {
  if (findings.empty()) return;
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  // Decide every drop before moving anything: the comparison reads the known findings. A hash of
  // the known findings' values and places keeps this linear in the number of findings.
  thread_local std::vector<std::size_t> dropped_for;  // the known finding that stands for it, or none
  thread_local std::unordered_map<std::string, std::size_t> known;  // kind + value or place -> index
  dropped_for.assign(findings.size(), none);
  known.clear();
  const auto known_key = [](const Finding& finding, char what, const std::string& text) {
    std::string key(to_string(finding.kind));
    key += what;
    key += text;
    return key;
  };
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const Finding& finding = findings[i];
    if (finding.method != DetectionMethod::known) continue;
    known.try_emplace(known_key(finding, 'v', finding.value), i);
    known.try_emplace(known_key(finding, 'w', finding.where), i);
    known.try_emplace(known_key(finding, 'b', finding.value + '\x1f' + finding.where), i);
  }
  // The known finding that stands for a dropped one is the one of its value in its place if there
  // is one, else the one in its place, else one of its value.
  for (std::size_t i = 0; i < findings.size() && !known.empty(); ++i) {
    const Finding& finding = findings[i];
    if (finding.method != DetectionMethod::heuristic) continue;
    auto it = known.find(known_key(finding, 'b', finding.value + '\x1f' + finding.where));
    if (it == known.end()) it = known.find(known_key(finding, 'w', finding.where));
    if (it == known.end()) it = known.find(known_key(finding, 'v', finding.value));
    if (it != known.end()) dropped_for[i] = it->second;
  }
  thread_local std::unordered_map<std::string, std::size_t> seen;  // key -> index in out.findings
  thread_local std::vector<std::size_t> settled_as;  // findings[i] is out.findings[settled_as[i]], or none
  seen.clear();
  settled_as.assign(findings.size(), none);
  thread_local std::vector<bool> merged;  // by index in out.findings: it absorbed another finding
  merged.assign(out.findings.size(), false);
  std::string key;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    if (dropped_for[i] != none) continue;
    Finding& finding = findings[i];
    key.assign(to_string(finding.kind));
    key += '\x1f';
    key += to_string(finding.method);
    key += '\x1f';
    key += finding.value;
    key += '\x1f';
    key += finding.where;
    if (reported) {
      // A stream reports each identifier form once, not once per read.
      key += '\x1f';
      key += finding.encoding;
      key += '\x1f';
      key += finding.form;
    }
    if (reported && reported->count(key)) continue;
    const auto [it, fresh] = seen.try_emplace(key, out.findings.size());
    if (!fresh) {
      // Another copy in the same place, or two forms of one value there ("+4791234567" holds
      // "4791234567"): report the longer match, the form that was sent, standing for both.
      Finding& kept = out.findings[it->second];
      const std::size_t kept_size = kept.matched.empty() ? 0 : kept.matched.front().size();
      const std::size_t new_size = finding.matched.empty() ? 0 : finding.matched.front().size();
      if (new_size > kept_size) std::swap(kept, finding);
      absorb(kept, finding);
      settled_as[i] = it->second;
      merged[it->second] = true;
      continue;
    }
    if (reported) {
      if (reported->size() > 4096) reported->clear();
      reported->insert(key);
    }
    if (finding.method == DetectionMethod::heuristic && context.learned && context.device &&
        std::find(core.learning_detectors.begin(), core.learning_detectors.end(), finding.detector) !=
            core.learning_detectors.end())
      context.learned->learn(finding.kind, finding.value);
    settled_as[i] = out.findings.size();
    out.findings.push_back(std::move(finding));
    merged.push_back(false);
  }
  for (std::size_t i = 0; i < findings.size(); ++i) {
    if (dropped_for[i] == none || settled_as[dropped_for[i]] == none) continue;
    absorb(out.findings[settled_as[dropped_for[i]]], findings[i]);
    merged[settled_as[dropped_for[i]]] = true;
  }
  // Each matched text once; locations in request order, each place once: a form inside another
  // ("4791234567" in "%2B4791234567") adds nothing to the longer one around it.
  for (std::size_t i = 0; i < out.findings.size(); ++i) {
    if (!merged[i]) continue;
    auto& matched = out.findings[i].matched;
    std::sort(matched.begin(), matched.end());
    matched.erase(std::unique(matched.begin(), matched.end()), matched.end());
    auto& locations = out.findings[i].locations;
    if (locations.empty()) continue;
    std::sort(locations.begin(), locations.end(), [](const ByteLocation& a, const ByteLocation& b) {
      return std::tie(a.part, a.header_index, a.offset, b.length) < std::tie(b.part, b.header_index, b.offset, a.length);
    });
    const auto inside = [](const ByteLocation& outer, const ByteLocation& inner) {
      return outer.part == inner.part && outer.header_index == inner.header_index &&
             inner.offset + inner.length <= outer.offset + outer.length;  // and inner.offset >= outer.offset: sorted
    };
    std::size_t kept = 0;
    for (std::size_t j = 1; j < locations.size(); ++j)
      if (!inside(locations[kept], locations[j])) locations[++kept] = locations[j];
    locations.resize(kept + 1);
  }
}

}  // namespace

Inspector::Inspector(ConfigSnapshot config) {
  auto core = std::make_shared<InspectorCore>();
  core->generation = next_generation();
  core->config = std::move(config);
  core->detectors = build_detectors(*core->config);
  if (!core->config->protobuf.descriptor_sets.empty() || !core->config->protobuf.messages.empty())
    core->schema = decoders::protobuf::Schema::load(core->config->protobuf, core->config->source);
  for (const auto& detector : core->detectors)
    if (detector->feeds_learning()) core->learning_detectors.push_back(detector->name());
  const std::size_t inspect = core->config->limits.max_inspect_bytes;
  core->limits.max_decoded_bytes = std::max<std::size_t>(8u << 20, inspect * 8);
  core_ = std::move(core);
}

Inspector::Inspector(ConfigSnapshot config, const DecodeLimits& limits) : Inspector(std::move(config)) {
  auto core = std::make_shared<InspectorCore>(*core_);
  core->generation = next_generation();
  core->limits = limits;
  core_ = std::move(core);
}

Inspector::~Inspector() = default;

const Config& Inspector::config() const { return *core_->config; }

const DeviceProfile* Inspector::device(std::string_view name) const {
  for (const auto& device : core_->config->devices)
    if (device.name == name) return &device;
  return nullptr;
}

void Inspector::inspect_request(const HttpRequest& request, const InspectionContext& context,
                                InspectionResult& out) const {
  if (core_->detectors.empty()) return;  // every detector disabled: nothing to decode for
  WorkspaceLease ws;
  std::shared_ptr<const known::KnownIndex> learned;
  if (context.learned) learned = context.learned->index();
  HeaderMemo* memo = context.header_memo;
  std::vector<std::uint8_t>& skip = ws->skip_headers;
  skip.clear();
  std::size_t skipped = 0;
  if (memo) {
    memo->use_stamp({core_->generation, device_index(*core_->config, context.device), learned});
    skipped = memo->match(request.head.headers, skip);
  }
  const std::size_t anomalies_before = out.anomalies.size();
  const auto decode_and_detect = [&](std::span<const std::uint8_t> skip_headers) {
    RequestDecoder decoder(ws->view, ws->arena, core_->limits, out.anomalies);
    decoder.set_schema(core_->schema.get());
    decoder.decode_request(request, skip_headers);
    return run_detectors(*core_, ws->view, context, learned.get(), ws->findings);
  };
  DetectionNotes notes = decode_and_detect(skip);
  if (skipped && notes.cross_field_candidate) {
    // A candidate may pair with something in a line left out: inspect the request whole.
    ws->view.clear();
    ws->arena.reset();
    ws->findings.clear();
    out.anomalies.resize(anomalies_before);
    notes = decode_and_detect({});  // still a cross-field candidate: nothing is remembered below
  }
  const bool clean = ws->findings.empty() && out.anomalies.size() == anomalies_before && !notes.cross_field_candidate;
  settle(*core_, ws->findings, context, nullptr, out);
  if (memo && clean) memo->remember(request.head.headers, skip);
}

InspectionResult Inspector::inspect_request(const HttpRequest& request, const InspectionContext& context) const {
  InspectionResult out;
  inspect_request(request, context, out);
  return out;
}

void Inspector::inspect_body(std::string_view body, std::string_view content_type, std::string_view content_encoding,
                             const InspectionContext& context, InspectionResult& out) const {
  if (core_->detectors.empty()) return;
  WorkspaceLease ws;
  RequestDecoder decoder(ws->view, ws->arena, core_->limits, out.anomalies);
  decoder.decode_body(body, content_type, content_encoding);
  run_detectors(*core_, ws->view, context, ws->findings);
  settle(*core_, ws->findings, context, nullptr, out);
}

RawStreamScanner Inspector::raw_stream_scanner() const { return RawStreamScanner(core_); }

void Inspector::inspect_name(std::string_view name, std::string_view where, const InspectionContext& context,
                             InspectionResult& out) const {
  if (name.empty()) return;
  InspectionResult result;
  RawStreamScanner scanner = raw_stream_scanner();
  scanner.feed(name, context, result);
  scanner.finish(context, result);
  for (auto& finding : result.findings) {
    finding.where = where;
    finding.locations.clear();  // offsets into the name: nothing a redaction could use
    out.findings.push_back(std::move(finding));
  }
  for (auto& anomaly : result.anomalies) {
    anomaly.where = where;
    out.anomalies.push_back(std::move(anomaly));
  }
}

void RawStreamScanner::feed(std::string_view bytes, const InspectionContext& context, InspectionResult& out) {
  if (bytes.empty()) return;
  if (window_.size() > overlap) {
    const std::size_t drop = window_.size() - overlap;
    window_.erase(0, drop);
    window_start_ += drop;
  }
  window_.append(bytes);
  scan(false, context, out);
}

void RawStreamScanner::finish(const InspectionContext& context, InspectionResult& out) {
  if (window_.empty()) return;
  scan(true, context, out);
}

void RawStreamScanner::scan(bool complete, const InspectionContext& context, InspectionResult& out) {
  if (core_->detectors.empty()) return;
  WorkspaceLease ws;
  RequestDecoder decoder(ws->view, ws->arena, core_->limits, out.anomalies);
  const std::size_t report_from = static_cast<std::size_t>(decided_until_ - window_start_);
  decoder.add_stream_window(window_, window_start_, report_from, complete);
  run_detectors(*core_, ws->view, context, ws->findings);
  settle(*core_, ws->findings, context, &reported_, out);
  decided_until_ = window_start_ + window_.size();
}

}  // namespace leakguard
