#include "detectors/decoders/protobuf_schema.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "detectors/decoders/protobuf.hpp"

namespace leakguard::decoders::protobuf {
namespace {

// Field numbers of google/protobuf/descriptor.proto.
namespace field_number {
constexpr std::uint32_t set_file = 1;
constexpr std::uint32_t file_package = 2, file_message_type = 4, file_service = 6;
constexpr std::uint32_t message_name = 1, message_field = 2, message_nested_type = 3;
constexpr std::uint32_t field_name = 1, field_number_ = 3, field_type = 5, field_type_name = 6;
constexpr std::uint32_t service_name = 1, service_method = 2;
constexpr std::uint32_t method_name = 1, method_input_type = 2;
constexpr std::uint64_t type_message = 11;
}  // namespace field_number

struct Problem {
  std::string what;
};

// The length-delimited and varint fields of one message of a descriptor.
struct Parsed {
  std::vector<std::pair<std::uint32_t, std::string_view>> bytes;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> numbers;
  std::string_view first(std::uint32_t number) const {
    for (const auto& [n, value] : bytes)
      if (n == number) return value;
    return {};
  }
};

Parsed parse(std::string_view bytes, std::string_view what) {
  Parsed out;
  const bool ok = parse_fields(bytes, 1u << 20, [&](const WireField& field) {
    if (field.wire == Wire::length) out.bytes.emplace_back(field.number, bytes.substr(field.offset, field.size));
    else if (field.wire == Wire::varint) out.numbers.emplace_back(field.number, field.value);
  });
  if (!ok && !bytes.empty()) throw Problem{"not a FileDescriptorSet (" + std::string(what) + " does not parse)"};
  return out;
}

std::string joined(std::string_view scope, std::string_view name) {
  return scope.empty() ? std::string(name) : std::string(scope) + "." + std::string(name);
}

std::string strip_dot(std::string_view type) { return std::string(type.substr(!type.empty() && type[0] == '.')); }

void add_message(std::string_view bytes, std::string_view scope, std::map<std::string, SchemaMessage, std::less<>>& out) {
  const Parsed message = parse(bytes, "a message type");
  SchemaMessage schema;
  schema.full_name = joined(scope, message.first(field_number::message_name));
  for (const auto& [number, content] : message.bytes) {
    if (number == field_number::message_nested_type) add_message(content, schema.full_name, out);
    if (number != field_number::message_field) continue;
    const Parsed field = parse(content, "a field");
    SchemaField out_field;
    out_field.name = std::string(field.first(field_number::field_name));
    std::uint64_t type = 0;
    for (const auto& [n, value] : field.numbers) {
      if (n == field_number::field_number_) out_field.number = static_cast<std::uint32_t>(value);
      if (n == field_number::field_type) type = value;
    }
    const std::string_view type_name = field.first(field_number::field_type_name);
    if (type == field_number::type_message || (type == 0 && !type_name.empty())) out_field.message_type = strip_dot(type_name);
    if (out_field.name.empty() || out_field.number == 0)
      throw Problem{"message " + schema.full_name + " has a field without a name or number"};
    schema.fields.push_back(std::move(out_field));
  }
  std::sort(schema.fields.begin(), schema.fields.end(),
            [](const SchemaField& a, const SchemaField& b) { return a.number < b.number; });
  out[schema.full_name] = std::move(schema);
}

}  // namespace

const SchemaField* SchemaMessage::field(std::uint32_t number) const {
  auto it = std::lower_bound(fields.begin(), fields.end(), number,
                             [](const SchemaField& f, std::uint32_t n) { return f.number < n; });
  return it != fields.end() && it->number == number ? &*it : nullptr;
}

std::shared_ptr<const Schema> Schema::load(const ProtobufSettings& settings, const std::string& config_source) {
  auto schema = std::make_shared<Schema>();
  for (const std::string& path : settings.descriptor_sets) {
    const auto fail = [&](const std::string& what) {
      throw ConfigError(config_source, 0, 0, "protobuf.descriptor_sets: " + path + ": " + what);
    };
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot be read");
    std::stringstream content;
    content << in.rdbuf();
    const std::string bytes = content.str();
    if (bytes.empty()) fail("is empty (expected the output of protoc --descriptor_set_out)");
    try {
      const Parsed set = parse(bytes, "the file");
      for (const auto& [number, file_bytes] : set.bytes) {
        if (number != field_number::set_file) continue;
        const Parsed file = parse(file_bytes, "a file descriptor");
        const std::string package(file.first(field_number::file_package));
        for (const auto& [n, content] : file.bytes) {
          if (n == field_number::file_message_type) add_message(content, package, schema->messages_);
          if (n != field_number::file_service) continue;
          const Parsed service = parse(content, "a service");
          const std::string service_name = joined(package, service.first(field_number::service_name));
          for (const auto& [m, method_bytes] : service.bytes) {
            if (m != field_number::service_method) continue;
            const Parsed method = parse(method_bytes, "a method");
            schema->roots_["/" + service_name + "/" + std::string(method.first(field_number::method_name))] =
                strip_dot(method.first(field_number::method_input_type));
          }
        }
      }
      if (schema->messages_.empty()) fail("defines no message (is it a FileDescriptorSet?)");
    } catch (const Problem& problem) {
      fail(problem.what);
    }
  }
  for (const auto& [name, message] : schema->messages_)
    for (const auto& field : message.fields)
      if (!field.message_type.empty() && !schema->message(field.message_type))
        throw ConfigError(config_source, 0, 0, "protobuf.descriptor_sets: field " + name + "." + field.name +
                                                   " is of type " + field.message_type + ", which no file defines");
  for (const auto& [path, type] : settings.messages) {
    if (!schema->message(type))
      throw ConfigError(config_source, 0, 0, "protobuf.messages: '" + path + "': no descriptor set defines message " + type);
    schema->roots_[path] = type;
  }
  return schema;
}

const SchemaMessage* Schema::message(std::string_view full_name) const {
  auto it = messages_.find(full_name);
  return it == messages_.end() ? nullptr : &it->second;
}

const SchemaMessage* Schema::root_for(std::string_view path) const {
  auto it = roots_.find(path);
  return it == roots_.end() ? nullptr : message(it->second);
}

bool Schema::name(const SchemaMessage& root, std::string_view path, std::string& where, std::string& key) const {
  const SchemaMessage* message = &root;
  const SchemaField* field = nullptr;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    if (field) {  // descend into the previous component's message type
      message = field->message_type.empty() ? nullptr : this->message(field->message_type);
      if (!message) return false;
    }
    std::size_t end = path.find('.', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(pos, end - pos);
    component = component.substr(0, component.find('['));  // an array element: the field's own type
    std::uint32_t number = 0;
    for (const char c : component) {
      if (c < '0' || c > '9') return false;
      number = number * 10 + static_cast<std::uint32_t>(c - '0');
    }
    field = message->field(number);
    if (!field) return false;
    pos = end + 1;
  }
  where = message->full_name + "." + field->name;
  key = field->name;
  return true;
}

}  // namespace leakguard::decoders::protobuf
