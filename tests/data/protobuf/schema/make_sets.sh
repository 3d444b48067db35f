#!/usr/bin/env bash
# Writes the descriptor sets the tests load, with Debian's protoc (protobuf-compiler):
#   checkin.pb          checkin.proto and its import (--include_imports): what the README asks for
#   checkin-no-imports.pb  checkin.proto alone: libprotobuf must refuse it, naming the import
set -euo pipefail
cd "$(dirname "$0")"
protoc --include_imports --descriptor_set_out=checkin.pb checkin.proto
protoc --descriptor_set_out=checkin-no-imports.pb checkin.proto
echo "wrote checkin.pb checkin-no-imports.pb"
