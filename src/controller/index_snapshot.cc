#include "controller/index_snapshot.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace dove::controller {
namespace {

namespace pbio = google::protobuf::io;

constexpr std::string_view kMagic = "DOVE-INDEX-SNAPSHOT\n";
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kBufferBytes = size_t{64} * 1024;
// Bounds a reader enforces before allocating: no identity or object is near them.
constexpr uint32_t kMaxIdentityBytes = 4096;
constexpr uint32_t kMaxObjectBytes = 16 * 1024 * 1024;

std::string Errno(std::string_view what, const std::filesystem::path& path, int error) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(error);
}

// FNV-1a, 64 bits: detects a damaged record, which a varint framing might otherwise read as
// another valid one. Not a defence against a forger (who could write the file anyway).
class Hash {
 public:
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      value_ ^= c;
      value_ *= 1099511628211ULL;
    }
  }
  void Add(int64_t number) {
    char bytes[8];
    auto value = static_cast<uint64_t>(number);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
    Add(std::string_view(bytes, sizeof bytes));
  }
  // The header: what the file is of.
  void AddHeader(std::string_view identity, int64_t revision) {
    Add(identity);
    Add(revision);
  }
  void Add(SnapshotKind kind, int64_t mod_revision, std::string_view object) {
    const char kind_byte = static_cast<char>(kind);
    Add(std::string_view(&kind_byte, 1));
    Add(mod_revision);
    Add(object);
  }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 14695981039346656037ULL;
};

SnapshotError Unusable(std::string message) {
  return SnapshotError{SnapshotError::kUnusable, std::move(message)};
}

bool ReadString(pbio::CodedInputStream& input, uint32_t max, std::string* out) {
  uint32_t size = 0;
  return input.ReadVarint32(&size) && size <= max && input.ReadString(out, static_cast<int>(size));
}

Expected<int64_t, SnapshotError> Parse(
    pbio::CodedInputStream& input, std::string_view identity,
    const std::function<Expected<void, std::string>(const SnapshotRecord&)>& visit) {
  std::string magic;
  if (!input.ReadString(&magic, static_cast<int>(kMagic.size())) || magic != kMagic) {
    return Unexpected(Unusable("not an index snapshot (no DOVE-INDEX-SNAPSHOT header)"));
  }
  uint32_t version = 0;
  if (!input.ReadVarint32(&version) || version != kFormatVersion) {
    return Unexpected(Unusable("format version " + std::to_string(version) + ", this build reads " +
                               std::to_string(kFormatVersion)));
  }
  std::string taken_from;
  uint64_t revision = 0;
  if (!ReadString(input, kMaxIdentityBytes, &taken_from) || !input.ReadVarint64(&revision) ||
      revision == 0 || revision > static_cast<uint64_t>(INT64_MAX)) {
    return Unexpected(Unusable("truncated or damaged header"));
  }
  if (taken_from != identity) {
    return Unexpected(Unusable("taken from another store (" + taken_from + "; this is " +
                               std::string(identity) + ")"));
  }
  Hash hash;
  hash.AddHeader(taken_from, static_cast<int64_t>(revision));
  uint64_t records = 0;
  std::string object;
  for (;;) {
    uint32_t kind = 0;
    if (!input.ReadVarint32(&kind)) return Unexpected(Unusable("truncated (no end record)"));
    if (kind == 0) break;
    uint64_t mod_revision = 0;
    if (kind > static_cast<uint32_t>(SnapshotKind::kPolicy) || !input.ReadVarint64(&mod_revision) ||
        mod_revision == 0 || mod_revision > revision ||
        !ReadString(input, kMaxObjectBytes, &object)) {
      return Unexpected(Unusable("damaged record " + std::to_string(records + 1)));
    }
    const SnapshotRecord record{static_cast<SnapshotKind>(kind), static_cast<int64_t>(mod_revision),
                                object};
    hash.Add(record.kind, record.mod_revision, object);
    ++records;
    if (auto taken = visit(record); !taken) {
      return Unexpected(Unusable("record " + std::to_string(records) + ": " + taken.error()));
    }
  }
  uint64_t count = 0;
  uint64_t stored_hash = 0;
  if (!input.ReadVarint64(&count) || !input.ReadLittleEndian64(&stored_hash)) {
    return Unexpected(Unusable("truncated end record"));
  }
  if (count != records || stored_hash != hash.value()) {
    return Unexpected(Unusable("damaged: " + std::to_string(records) + " records read, " +
                               std::to_string(count) + " written" +
                               (stored_hash != hash.value() ? ", hash mismatch" : "")));
  }
  uint8_t extra = 0;
  if (input.ReadRaw(&extra, 1)) return Unexpected(Unusable("bytes after the end record"));
  return static_cast<int64_t>(revision);
}

}  // namespace

struct IndexSnapshotWriter::State {
  std::filesystem::path file;
  std::filesystem::path temporary;
  int fd = -1;
  std::optional<pbio::FileOutputStream> stream;
  std::optional<pbio::CodedOutputStream> output;
  Hash hash;
  uint64_t records = 0;
  uint64_t bytes = 0;  // once committed
  bool committed = false;
};

IndexSnapshotWriter::IndexSnapshotWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}

Expected<std::unique_ptr<IndexSnapshotWriter>, std::string> IndexSnapshotWriter::Create(
    const std::filesystem::path& file, std::string_view identity, int64_t revision) {
  auto state = std::make_unique<State>();
  state->file = file;
  state->temporary = file;
  state->temporary += ".tmp";
  state->fd = ::open(state->temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (state->fd < 0) return Unexpected(Errno("cannot create", state->temporary, errno));
  state->stream.emplace(state->fd, static_cast<int>(kBufferBytes));
  state->output.emplace(&*state->stream);
  state->output->WriteRaw(kMagic.data(), static_cast<int>(kMagic.size()));
  state->output->WriteVarint32(kFormatVersion);
  state->output->WriteVarint32(static_cast<uint32_t>(identity.size()));
  state->output->WriteRaw(identity.data(), static_cast<int>(identity.size()));
  state->output->WriteVarint64(static_cast<uint64_t>(revision));
  state->hash.AddHeader(identity, revision);
  return std::unique_ptr<IndexSnapshotWriter>(new IndexSnapshotWriter(std::move(state)));
}

IndexSnapshotWriter::~IndexSnapshotWriter() {
  state_->output.reset();
  state_->stream.reset();
  if (state_->fd >= 0) ::close(state_->fd);
  if (!state_->committed) {
    std::error_code ignored;
    std::filesystem::remove(state_->temporary, ignored);
  }
}

void IndexSnapshotWriter::Add(SnapshotKind kind, int64_t mod_revision, std::string_view object) {
  state_->output->WriteVarint32(static_cast<uint32_t>(kind));
  state_->output->WriteVarint64(static_cast<uint64_t>(mod_revision));
  state_->output->WriteVarint32(static_cast<uint32_t>(object.size()));
  state_->output->WriteRaw(object.data(), static_cast<int>(object.size()));
  state_->hash.Add(kind, mod_revision, object);
  ++state_->records;
}

uint64_t IndexSnapshotWriter::bytes() const {
  return state_->output ? static_cast<uint64_t>(state_->output->ByteCount()) : state_->bytes;
}

Expected<void, std::string> IndexSnapshotWriter::Commit() {
  State& s = *state_;
  s.output->WriteVarint32(0);
  s.output->WriteVarint64(s.records);
  s.output->WriteLittleEndian64(s.hash.value());
  const bool encoded = !s.output->HadError();
  s.bytes = static_cast<uint64_t>(s.output->ByteCount());
  s.output.reset();  // hands its buffer back to the stream
  if (!encoded || !s.stream->Close()) {
    const int error = s.stream->GetErrno();
    s.fd = -1;  // closed by the stream
    return Unexpected(Errno("cannot write", s.temporary, error != 0 ? error : EIO));
  }
  s.fd = -1;
  // Close() closed the descriptor; fsync through a new one (the data is in the page cache).
  const int fd = ::open(s.temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    return Unexpected(Errno("cannot fsync", s.temporary, error));
  }
  ::close(fd);
  if (::rename(s.temporary.c_str(), s.file.c_str()) != 0) {
    return Unexpected(Errno("cannot rename over", s.file, errno));
  }
  s.committed = true;
  const std::filesystem::path dir = s.file.has_parent_path() ? s.file.parent_path() : ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    const int error = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    return Unexpected(Errno("cannot fsync the directory", dir, error));
  }
  ::close(dir_fd);
  return {};
}

Expected<int64_t, SnapshotError> ReadIndexSnapshot(
    const std::filesystem::path& file, std::string_view identity,
    const std::function<Expected<void, std::string>(const SnapshotRecord&)>& visit) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Unexpected(SnapshotError{SnapshotError::kMissing, "no file"});
    return Unexpected(Unusable(Errno("cannot open", file, errno)));
  }
  pbio::FileInputStream stream(fd, static_cast<int>(kBufferBytes));
  stream.SetCloseOnDelete(true);
  auto read = [&] {
    pbio::CodedInputStream input(&stream);
    return Parse(input, identity, visit);
  }();
  if (!read && stream.GetErrno() != 0) {
    return Unexpected(Unusable(Errno("cannot read", file, stream.GetErrno())));
  }
  return read;
}

Expected<int64_t, SnapshotError> ParseIndexSnapshot(
    std::string_view bytes, std::string_view identity,
    const std::function<Expected<void, std::string>(const SnapshotRecord&)>& visit) {
  pbio::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  pbio::CodedInputStream input(&stream);
  return Parse(input, identity, visit);
}

Expected<std::unique_ptr<CacheDirLock>, std::string> CacheDirLock::Acquire(
    const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Unexpected("cannot create " + dir.string() + ": " + error.message());
  const std::filesystem::path lock = dir / "lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(Errno("cannot open", lock, errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int why = errno;
    ::close(fd);
    if (why == EWOULDBLOCK) {
      return Unexpected(dir.string() +
                        " is in use by another running controller (its lock file is held)");
    }
    return Unexpected(Errno("cannot lock", lock, why));
  }
  return std::unique_ptr<CacheDirLock>(new CacheDirLock(fd));
}

CacheDirLock::~CacheDirLock() { ::close(fd_); }

}  // namespace dove::controller
