// Descriptor sets (`protoc --descriptor_set_out`): the field names of the messages a request
// carries, for `where` ("body.protobuf:checkin.Network.imsi") and as key context (a field named
// `imsi` makes a 15-digit string an IMSI), exactly as JSON keys are. The sets are read and
// cross-checked by libprotobuf (a DescriptorPool: imports, types, duplicates); what the walker
// needs of them, every message type (nested ones too) with its fields, is copied out once.
//
// Which message a request holds: a gRPC call's method input type (path "/pkg.Service/Method"), or
// the type configured for the request's path (`protobuf.messages`).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace leakguard::decoders::protobuf {

struct SchemaField {
  std::uint32_t number = 0;
  std::string name;
  std::string message_type;  // full name without the leading '.', for message fields; else empty
};

struct SchemaMessage {
  std::string full_name;            // "checkin.Network"
  std::vector<SchemaField> fields;  // sorted by number
  const SchemaField* field(std::uint32_t number) const;
};

class Schema {
 public:
  // Reads every file of `settings.descriptor_sets` and checks `settings.messages`. Throws
  // ConfigError (source `config_source`) naming the file and what is wrong: unreadable, not a
  // FileDescriptorSet, a field of a type no file defines, a configured type that does not exist.
  static std::shared_ptr<const Schema> load(const ProtobufSettings& settings, const std::string& config_source);

  const SchemaMessage* message(std::string_view full_name) const;
  // The message a request to `path` (the target without its query) carries, or null.
  const SchemaMessage* root_for(std::string_view path) const;
  // A walker path from `root` ("4.16.6", "4[2].1") as names: the field's message and name
  // ("checkin.Network.imsi") and its name alone (the key). False where the schema has no such field.
  bool name(const SchemaMessage& root, std::string_view path, std::string& where, std::string& key) const;

 private:
  std::map<std::string, SchemaMessage, std::less<>> messages_;
  std::map<std::string, std::string, std::less<>> roots_;  // request path -> message full name
};

}  // namespace leakguard::decoders::protobuf
