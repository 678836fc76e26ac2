// The daemons' log: records with a level, a message and structured fields, written to the
// journal through its native protocol when stderr is the journal (a service of systemd), else
// as one line each on stderr.
//
//   dove::base::InitLog("dove-switch");   // once at start, before other threads
//   dove::base::SetLogLevel(dove::base::LogLevel::kDebug);
//   DOVE_LOG(kWarning).With("PORT", name) << "port " << name << ": " << error;
//
// On stderr that record reads `dove-switch: warning: port tap1: gone port=tap1`: the program,
// the level (info records have none, as a daemon's ordinary lines), the message, then each
// field as key=value (key lower-case; the value quoted when empty or holding a space, a quote
// or '='). In the journal it is MESSAGE, PRIORITY (syslog's numbers: error 3, warning 4, info 6,
// debug 7), SYSLOG_IDENTIFIER, CODE_FILE, CODE_LINE and DOVE_PORT=tap1: `journalctl -p warning`,
// `journalctl DOVE_PORT=tap1`, `-o json` see them.
//
// A record below the threshold (SetLogLevel; info by default) costs one relaxed atomic load: its
// `<<` operands and With values are not evaluated. A site a packet can reach uses
// DOVE_LOG_LIMITED (log_rate_limiter.h) instead. Thread-safe: records are written whole, one at
// a time. The journal's socket is opened per record; a record it refuses (too big, journald not
// running) goes to stderr instead.
#pragma once

#include <atomic>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "base/log_rate_limiter.h"

namespace dove::base {

// The levels, numbered as syslog's priorities (the journal's PRIORITY field).
enum class LogLevel : uint8_t { kError = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

// "error", "warning", "info", "debug".
std::string_view LogLevelName(LogLevel level);
// The level a name names (as LogLevelName writes it); an error listing the names otherwise.
Expected<LogLevel, std::string> ParseLogLevel(std::string_view name);
// For --help and option checks: the names, in order of severity.
inline constexpr const char* kLogLevelNames[] = {"error", "warning", "info", "debug"};

namespace internal {
inline std::atomic<uint8_t> log_threshold{static_cast<uint8_t>(LogLevel::kInfo)};
}  // namespace internal

// Records of `level` and more severe are written; the others are not even formatted.
inline void SetLogLevel(LogLevel level) {
  internal::log_threshold.store(static_cast<uint8_t>(level), std::memory_order_relaxed);
}
inline LogLevel GetLogLevel() {
  return static_cast<LogLevel>(internal::log_threshold.load(std::memory_order_relaxed));
}
inline bool LogEnabled(LogLevel level) {
  return static_cast<uint8_t>(level) <= internal::log_threshold.load(std::memory_order_relaxed);
}

// The journal's socket for the native protocol (systemd-journald.service(8)).
inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";
// The variable systemd sets to "DEVICE:INODE" of the stream stdout/stderr are connected to.
inline constexpr const char* kJournalStreamEnvVar = "JOURNAL_STREAM";

// Names the program in every record (the stderr prefix, SYSLOG_IDENTIFIER) and sends records to
// the journal when stderr is the journal's stream ($JOURNAL_STREAM names stderr's device and
// inode), to stderr otherwise. Call once at start, before other threads log.
void InitLog(std::string_view identifier);
// Sends records to the native-protocol socket at `socket_path` (empty: to stderr). For tests,
// and InitLog.
void SetLogJournalSocket(std::string_view socket_path);
// Whether `journal_stream` (the value of $JOURNAL_STREAM, "DEVICE:INODE"; null when unset) names
// the file open as `fd`.
bool IsJournalStream(const char* journal_stream, int fd);

// One key/value of a record. Keys are upper-case words (ENDPOINT, PEER, REASON); the journal
// gets them as DOVE_<KEY>.
struct LogField {
  std::string key;
  std::string value;
};

// One record, as the writers take it.
struct LogEntry {
  LogLevel level = LogLevel::kInfo;
  std::string_view file;  // __FILE__; empty: none
  int line = 0;
  std::string_view message;
  const std::vector<LogField>* fields = nullptr;  // null: none
};

// `entry` as its line on stderr, with the trailing newline.
std::string FormatLogLine(std::string_view identifier, const LogEntry& entry);
// `entry` as one datagram of the journal's native protocol: KEY=VALUE lines, or for a value
// holding a newline KEY, a newline, its length as 64-bit little-endian, the value, a newline.
std::string EncodeJournalEntry(std::string_view identifier, const LogEntry& entry);
// Writes `entry` where InitLog/SetLogJournalSocket said.
void WriteLog(const LogEntry& entry);

// A record being built; written when destroyed (at the end of the statement of DOVE_LOG).
class LogRecord {
 public:
  LogRecord(LogLevel level, const char* file, int line) : level_(level), file_(file), line_(line) {}
  // A record of a rate-limited site: first reports the records `limiter` suppressed since its
  // last one.
  LogRecord(LogLevel level, const char* file, int line, LogRateLimiter* limiter);
  LogRecord(const LogRecord&) = delete;
  LogRecord& operator=(const LogRecord&) = delete;
  ~LogRecord();

  template <typename T>
  LogRecord& operator<<(const T& value) {
    message_ << value;
    return *this;
  }
  // Adds the field KEY=value (numbers as decimal, anything else as `<<` writes it).
  template <typename T>
  LogRecord& With(std::string_view key, const T& value) {
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      const std::string_view text = value;
      fields_.push_back({std::string(key), std::string(text)});
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                         !std::is_same_v<T, char>) {
      fields_.push_back({std::string(key), std::to_string(value)});
    } else {
      std::ostringstream text;
      text << value;
      fields_.push_back({std::string(key), std::move(text).str()});
    }
    return *this;
  }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream message_;
  std::vector<LogField> fields_;
};

// Makes DOVE_LOG's expression void whatever its `<<` chain returns.
struct LogVoidify {
  void operator&(const LogRecord& /*record*/) {}
};

}  // namespace dove::base

// The macros are the start of a statement the caller continues (`<< ...`, `.With(...)`), and
// `severity` names an enumerator: neither can be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)

// DOVE_LOG(kWarning) << ...;  DOVE_LOG(kInfo).With("ENDPOINT", id) << ...;
#define DOVE_LOG_AT(level)         \
  !::dove::base::LogEnabled(level) \
      ? (void)0                    \
      : ::dove::base::LogVoidify() & ::dove::base::LogRecord(level, __FILE__, __LINE__)
#define DOVE_LOG(severity) DOVE_LOG_AT(::dove::base::LogLevel::severity)

// As DOVE_LOG, at most `burst` records per `interval` (a std::chrono duration) from this site;
// see log_rate_limiter.h. `burst` and `interval` must be constants. A for statement (run once
// or not at all) declares the site's limiter where an expression could not.
#define DOVE_LOG_LIMITED(severity, burst, interval)                                              \
  for (::dove::base::LogRateLimiter* dove_log_limiter_ =                                         \
           [] {                                                                                  \
             static ::dove::base::LogRateLimiter limiter(burst, interval);                       \
             return &limiter;                                                                    \
           }();                                                                                  \
       dove_log_limiter_ != nullptr &&                                                           \
       ::dove::base::LogEnabled(::dove::base::LogLevel::severity) && dove_log_limiter_->Admit(); \
       dove_log_limiter_ = nullptr)                                                              \
  ::dove::base::LogRecord(::dove::base::LogLevel::severity, __FILE__, __LINE__, dove_log_limiter_)

// NOLINTEND(bugprone-macro-parentheses)
