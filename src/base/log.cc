#include "base/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/unix_datagram.h"

namespace dove::base {
namespace {

// Where records go; guarded by mu.
struct LogSink {
  std::mutex mu;
  std::string identifier = "dove";
  std::string journal_socket;  // empty: stderr
};

LogSink& Sink() {
  static LogSink* sink = new LogSink();  // never destroyed: threads may log during exit
  return *sink;
}

// A source file as CODE_FILE shows it: relative to the source tree (the build's absolute path
// says nothing), which is where this file's own path says.
std::string_view SourceFile(std::string_view file) {
  constexpr std::string_view kThisFile = __FILE__;
  constexpr std::string_view kFromRoot = "src/base/log.cc";
  if (!kThisFile.ends_with(kFromRoot)) return file;
  const std::string_view root = kThisFile.substr(0, kThisFile.size() - kFromRoot.size());
  return file.starts_with(root) ? file.substr(root.size()) : file;
}

bool NeedsQuotes(std::string_view value) {
  return value.empty() || value.find_first_of(" \t\"=") != std::string_view::npos;
}

// A journal field name: upper-case letters, digits and '_' (other characters become '_').
std::string JournalKey(std::string_view key) {
  std::string out = "DOVE_";
  for (const char c : key) {
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += c;
    } else {
      out += '_';
    }
  }
  return out;
}

void AppendJournalField(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  if (value.find('\n') == std::string_view::npos) {
    out += '=';
  } else {
    out += '\n';
    uint64_t size = value.size();
    for (int i = 0; i < 8; ++i) {
      out += static_cast<char>(size & 0xff);
      size >>= 8;
    }
  }
  out += value;
  out += '\n';
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "info";
}

Expected<LogLevel, std::string> ParseLogLevel(std::string_view name) {
  for (const LogLevel level :
       {LogLevel::kError, LogLevel::kWarning, LogLevel::kInfo, LogLevel::kDebug}) {
    if (name == LogLevelName(level)) return level;
  }
  return Unexpected("log level \"" + std::string(name) +
                    "\" is none of error, warning, info, debug");
}

bool IsJournalStream(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return false;
  const std::string_view text = journal_stream;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  uint64_t device = 0;
  uint64_t inode = 0;
  const auto parse = [](std::string_view number, uint64_t& out) {
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), out);
    return error == std::errc() && end == number.data() + number.size() && !number.empty();
  };
  if (!parse(text.substr(0, colon), device) || !parse(text.substr(colon + 1), inode)) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return st.st_dev == device && st.st_ino == inode;
}

void InitLog(std::string_view identifier) {
  {
    std::lock_guard lock(Sink().mu);
    Sink().identifier = identifier;
  }
  const bool journal = IsJournalStream(std::getenv(kJournalStreamEnvVar), STDERR_FILENO);
  SetLogJournalSocket(journal ? kJournalSocket : "");
}

void SetLogJournalSocket(std::string_view socket_path) {
  std::lock_guard lock(Sink().mu);
  Sink().journal_socket = socket_path;
}

std::string FormatLogLine(std::string_view identifier, const LogEntry& entry) {
  std::string line(identifier);
  line += ": ";
  if (entry.level != LogLevel::kInfo) {
    line += LogLevelName(entry.level);
    line += ": ";
  }
  line += entry.message;
  if (entry.fields != nullptr) {
    for (const auto& [key, value] : *entry.fields) {
      line += ' ';
      for (const char c : key)
        line += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      line += '=';
      if (!NeedsQuotes(value)) {
        line += value;
        continue;
      }
      line += '"';
      for (const char c : value) {
        if (c == '"' || c == '\\') line += '\\';
        line += c;
      }
      line += '"';
    }
  }
  line += '\n';
  return line;
}

std::string EncodeJournalEntry(std::string_view identifier, const LogEntry& entry) {
  std::string out;
  AppendJournalField(out, "MESSAGE", entry.message);
  AppendJournalField(out, "PRIORITY", std::to_string(static_cast<int>(entry.level)));
  AppendJournalField(out, "SYSLOG_IDENTIFIER", identifier);
  if (!entry.file.empty()) {
    AppendJournalField(out, "CODE_FILE", SourceFile(entry.file));
    AppendJournalField(out, "CODE_LINE", std::to_string(entry.line));
  }
  if (entry.fields != nullptr) {
    for (const auto& [key, value] : *entry.fields) AppendJournalField(out, JournalKey(key), value);
  }
  return out;
}

void WriteLog(const LogEntry& entry) {
  LogSink& sink = Sink();
  std::lock_guard lock(sink.mu);
  if (!sink.journal_socket.empty() &&
      SendUnixDatagram(sink.journal_socket, EncodeJournalEntry(sink.identifier, entry))) {
    return;
  }
  const std::string line = FormatLogLine(sink.identifier, entry);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

LogRecord::LogRecord(LogLevel level, const char* file, int line, LogRateLimiter* limiter)
    : level_(level), file_(file), line_(line) {
  const uint64_t suppressed = limiter->TakeSuppressed();
  if (suppressed == 0) return;
  const auto interval_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(limiter->interval()).count();
  const std::string per = interval_ms % 1000 == 0 ? std::to_string(interval_ms / 1000) + " s"
                                                  : std::to_string(interval_ms) + " ms";
  const std::string message = "suppressed " + std::to_string(suppressed) + " similar message" +
                              (suppressed == 1 ? "" : "s") + " (at most " +
                              std::to_string(limiter->burst()) + " per " + per + ")";
  const std::vector<LogField> fields = {{"SUPPRESSED", std::to_string(suppressed)}};
  WriteLog({.level = level, .file = file, .line = line, .message = message, .fields = &fields});
}

LogRecord::~LogRecord() {
  const std::string message = std::move(message_).str();
  WriteLog({.level = level_,
            .file = file_ == nullptr ? std::string_view() : std::string_view(file_),
            .line = line_,
            .message = message,
            .fields = fields_.empty() ? nullptr : &fields_});
}

}  // namespace dove::base
