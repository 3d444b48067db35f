#include "capture/pcap_reader.hpp"

#include <pcap/pcap.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace leakguard {

// libpcap reads through a FILE* it closes itself, here a stdio cookie that counts what it served
// (the byte offset of an error). A regular file is mapped and served from memory: a read(2) per
// 4 KiB stdio buffer cost more than everything else per packet, and the pages already read are
// dropped every 8 MiB, so the mapping does not add the file's size to the resident set. Anything
// else (a pipe) is served the bytes the caller already read, then the rest of the caller's FILE*.
struct PcapReader::Source {
  static constexpr std::size_t drop_every = 8u << 20;
  const char* map = nullptr;
  std::size_t map_size = 0;
  std::size_t dropped = 0;  // pages before this offset were given back
  std::string replay;
  std::size_t replayed = 0;
  std::FILE* rest = nullptr;
  std::uint64_t served = 0;

  ~Source() {
    if (map) munmap(const_cast<char*>(map), map_size);
  }

  static ssize_t read(void* cookie, char* out, std::size_t size) {
    auto& source = *static_cast<Source*>(cookie);
    std::size_t got = 0;
    if (source.map) {
      got = std::min<std::size_t>(size, source.map_size - source.served);
      std::memcpy(out, source.map + source.served, got);
      if (source.served + got - source.dropped >= drop_every) {
        const std::size_t until = (source.served + got) & ~(std::size_t{4095});
        madvise(const_cast<char*>(source.map) + source.dropped, until - source.dropped, MADV_DONTNEED);
        source.dropped = until;
      }
    } else if (source.replayed < source.replay.size()) {
      got = std::min(size, source.replay.size() - source.replayed);
      std::memcpy(out, source.replay.data() + source.replayed, got);
      source.replayed += got;
    } else {
      got = std::fread(out, 1, size, source.rest);
      if (got == 0 && std::ferror(source.rest)) return -1;
    }
    source.served += got;
    return static_cast<ssize_t>(got);
  }
};

namespace {

std::optional<LinkType> link_type_of(int dlt) {
  switch (dlt) {
    case DLT_EN10MB: return LinkType::ethernet;
    case DLT_LINUX_SLL: return LinkType::linux_sll;
    case DLT_LINUX_SLL2: return LinkType::linux_sll2;
    case DLT_RAW: return LinkType::raw_ip;
    case DLT_IPV4: return LinkType::ipv4;
    case DLT_IPV6: return LinkType::ipv6;
    case DLT_NULL: return LinkType::bsd_null;
    case DLT_LOOP: return LinkType::bsd_loop;
    default: return std::nullopt;
  }
}

// libpcap's words for the pcapng it refuses, turned into what to do about it.
std::string explain(std::string message) {
  if (message.find("different from the type of the first interface") != std::string::npos)
    return message + " (this pcapng merges interfaces of different link types, which libpcap cannot read; " +
           "split it per interface first, e.g. tshark -r FILE -Y 'frame.interface_id == 0' -w PART.pcapng)";
  if (message.find("different from the snapshot length of the first interface") != std::string::npos)
    return message + " (this pcapng merges interfaces of different snapshot lengths, which libpcap cannot read; " +
           "split it per interface first)";
  return message;
}

}  // namespace

std::unique_ptr<PcapReader> PcapReader::open(std::FILE* file, std::string_view already_read, std::string& error) {
  std::unique_ptr<PcapReader> reader(new PcapReader());
  auto source = std::make_unique<Source>();
  struct stat info {};
  if (fstat(fileno(file), &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
    void* map = mmap(nullptr, static_cast<std::size_t>(info.st_size), PROT_READ, MAP_PRIVATE, fileno(file), 0);
    if (map != MAP_FAILED) {
      madvise(map, static_cast<std::size_t>(info.st_size), MADV_SEQUENTIAL);
      source->map = static_cast<const char*>(map);
      source->map_size = static_cast<std::size_t>(info.st_size);
    }
  }
  if (!source->map) {
    source->replay = std::string(already_read);
    source->rest = file;
  }
  // Buffered (glibc reads an unbuffered cookie stream byte by byte), in large reads.
  std::FILE* pcap_file = fopencookie(source.get(), "rb", cookie_io_functions_t{&Source::read, nullptr, nullptr, nullptr});
  if (!pcap_file) {
    error = std::strerror(errno);
    return nullptr;
  }
  std::setvbuf(pcap_file, nullptr, _IOFBF, 256 << 10);
  char message[PCAP_ERRBUF_SIZE] = {};
  reader->handle_ = pcap_fopen_offline_with_tstamp_precision(pcap_file, PCAP_TSTAMP_PRECISION_MICRO, message);
  if (!reader->handle_) {
    std::fclose(pcap_file);
    error = explain(message);
    return nullptr;
  }
  reader->source_ = std::move(source);
  const int dlt = pcap_datalink(reader->handle_);
  const auto link = link_type_of(dlt);
  if (!link) {
    const char* name = pcap_datalink_val_to_name(dlt);
    error = "link type " + std::string(name ? name : "unknown") + " (" + std::to_string(dlt) +
            ") is not supported; supported: Ethernet (VLAN tags too), Linux cooked v1 and v2, raw IP, BSD loopback";
    return nullptr;
  }
  reader->link_ = *link;
  reader->record_offset_ = reader->offset();
  return reader;
}

PcapReader::~PcapReader() {
  if (handle_) pcap_close(handle_);  // closes the cookie stream; source_ (the mapping) goes after
}

std::uint64_t PcapReader::offset() const {
  // What the cookie served less what still waits in the stream's buffer (glibc's FILE fields).
  const std::FILE* stream = pcap_file(handle_);
  return source_->served - static_cast<std::uint64_t>(stream->_IO_read_end - stream->_IO_read_ptr);
}

PcapReader::Status PcapReader::next(CapturedFrame& frame) {
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int status = pcap_next_ex(handle_, &header, &data);
  if (status == PCAP_ERROR_BREAK) return Status::end;
  if (status != 1) {
    error_ = "packet " + std::to_string(frames_ + 1) + " (the record at byte offset " + std::to_string(record_offset_) +
             "): " + explain(pcap_geterr(handle_));
    return Status::error;
  }
  ++frames_;
  record_offset_ = offset();
  frame.bytes = {data, header->caplen};
  frame.time_ms = static_cast<std::int64_t>(header->ts.tv_sec) * 1000 + header->ts.tv_usec / 1000;
  return Status::frame;
}

}  // namespace leakguard
