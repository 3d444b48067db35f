#include "detectors/decoders/protobuf_schema.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

namespace leakguard::decoders::protobuf {
namespace {

namespace gpb = google::protobuf;

// The first problem libprotobuf reports while building a file, with the element it is about.
class FirstError : public gpb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& file, const std::string& element, const gpb::Message*, ErrorLocation,
                const std::string& message) override {
    if (text.empty()) text = file + ": " + (element.empty() ? "" : element + ": ") + message;
  }
  std::string text;
};

void add_message(const gpb::Descriptor& descriptor, std::map<std::string, SchemaMessage, std::less<>>& out) {
  SchemaMessage schema;
  schema.full_name = descriptor.full_name();
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const gpb::FieldDescriptor& field = *descriptor.field(i);
    SchemaField out_field;
    out_field.number = static_cast<std::uint32_t>(field.number());
    out_field.name = field.name();
    if (field.message_type()) out_field.message_type = field.message_type()->full_name();
    schema.fields.push_back(std::move(out_field));
  }
  std::sort(schema.fields.begin(), schema.fields.end(),
            [](const SchemaField& a, const SchemaField& b) { return a.number < b.number; });
  out[schema.full_name] = std::move(schema);
  for (int i = 0; i < descriptor.nested_type_count(); ++i) add_message(*descriptor.nested_type(i), out);
}

std::string read_file(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream content;
  if (ok) content << in.rdbuf();
  return content.str();
}

}  // namespace

const SchemaField* SchemaMessage::field(std::uint32_t number) const {
  auto it = std::lower_bound(fields.begin(), fields.end(), number,
                             [](const SchemaField& f, std::uint32_t n) { return f.number < n; });
  return it != fields.end() && it->number == number ? &*it : nullptr;
}

std::shared_ptr<const Schema> Schema::load(const ProtobufSettings& settings, const std::string& config_source) {
  auto schema = std::make_shared<Schema>();
  // One pool for every set: a later set may use the types of an earlier one.
  gpb::DescriptorPool pool;
  for (const std::string& path : settings.descriptor_sets) {
    const auto fail = [&](const std::string& what) {
      throw ConfigError(config_source, 0, 0, "protobuf.descriptor_sets: " + path + ": " + what);
    };
    bool readable = false;
    const std::string bytes = read_file(path, readable);
    if (!readable) fail("cannot be read");
    if (bytes.empty()) fail("is empty (expected the output of protoc --descriptor_set_out)");
    gpb::FileDescriptorSet set;
    if (!set.ParseFromString(bytes) || set.file_size() == 0)
      fail("not a FileDescriptorSet (write it with protoc --descriptor_set_out)");
    for (const gpb::FileDescriptorProto& file_proto : set.file()) {
      if (const gpb::FileDescriptor* known = pool.FindFileByName(file_proto.name())) {
        gpb::FileDescriptorProto known_proto;
        known->CopyTo(&known_proto);
        if (known_proto.SerializeAsString() == file_proto.SerializeAsString()) continue;  // in two sets
        fail(file_proto.name() + " differs from the file of that name in an earlier descriptor set");
      }
      FirstError error;
      const gpb::FileDescriptor* file = pool.BuildFileCollectingErrors(file_proto, &error);
      if (!file) {
        const bool missing_import = error.text.find("has not been loaded") != std::string::npos;
        fail(error.text + (missing_import ? " (write the set with protoc --include_imports)" : ""));
      }
      for (int i = 0; i < file->message_type_count(); ++i) add_message(*file->message_type(i), schema->messages_);
      for (int i = 0; i < file->service_count(); ++i) {
        const gpb::ServiceDescriptor& service = *file->service(i);
        for (int m = 0; m < service.method_count(); ++m)
          schema->roots_["/" + service.full_name() + "/" + service.method(m)->name()] =
              service.method(m)->input_type()->full_name();
      }
    }
    if (schema->messages_.empty()) fail("defines no message");
  }
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
