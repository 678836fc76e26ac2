// udp_blast: a paced UDP datagram generator and a counting receiver, for dswitch_bench's
// small-packet rate (iperf3 cannot offer enough small datagrams on this kind of machine).
//
//   udp_blast send --to 10.10.0.2:9000 --rate 200000 --seconds 1 --size 64 [--run ID]
//                  [--interface eth0] [--threads 2]
//   udp_blast receive --port 9000 --seconds 5 [--idle 0.5] [--size 64] [--run ID]
//                     [--interface eth0]
//
// send: --threads threads (default 1), each with its own connected UDP socket (so its own
// source port) sending rate / threads datagrams per second for --seconds, of --size payload
// bytes (at least 16: a run id and a sequence number, the rest zero), in sendmmsg batches:
// datagram k is due at start + k / rate, and every wakeup sends what is due (at most 64 per
// call). A thread stops at the deadline even when behind; `sent` / `offered` says how well it
// kept up. No UDP_SEGMENT, no cork: every message is one datagram, one frame.
// receive: counts datagrams of the same run id with recvmmsg (no UDP_GRO on the socket, so the
// kernel hands over one datagram per message even if something merged them on the way) until
// --seconds pass, or --idle seconds after the last datagram once one arrived.
// Both print one JSON object on stdout; with --interface they add that interface's packet
// counter delta from /sys/class/net (inside `ip netns exec` /sys is the namespace's), which
// shows that frames on the wire equal datagrams.
// Errors: one sentence on stderr; exit 2 for bad flags, 1 for a failing socket call.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxBatch = 64;
constexpr size_t kHeaderBytes = 16;  // run id + sequence number
constexpr size_t kMaxSize = 1472;    // one Ethernet-sized datagram

const char* const kUsage =
    "udp_blast: paced UDP datagrams and a counting receiver (for dswitch_bench)\n"
    "\n"
    "  udp_blast send --to IP:PORT --rate PPS --seconds S [--size BYTES] [--run ID]\n"
    "                 [--interface IFACE] [--threads N]\n"
    "  udp_blast receive --port PORT --seconds S [--idle S] [--size BYTES] [--run ID]\n"
    "                    [--interface IFACE]\n"
    "\n"
    "  --to IP:PORT       where send sends (IPv4)\n"
    "  --rate PPS         datagrams per second offered (sendmmsg batches paced to the rate)\n"
    "  --seconds S        send: how long to send; receive: the longest it waits in all\n"
    "  --size BYTES       UDP payload bytes, 16..1472 (default 64)\n"
    "  --run ID           a number carried in every datagram; receive counts only its own run\n"
    "                     (default 1)\n"
    "  --port PORT        where receive listens (all addresses)\n"
    "  --idle S           receive stops S seconds after the last datagram (default 0.5)\n"
    "  --threads N        send: N threads, each its own socket (source port) at PPS / N\n"
    "                     (default 1)\n"
    "  --interface IFACE  also report IFACE's tx (send) or rx (receive) packet counter delta\n"
    "\n"
    "Prints one JSON object on stdout. Exit 0 done, 1 a socket call failed, 2 bad flags.\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "udp_blast: %s (see udp_blast --help)\n", message.c_str());
  return 2;
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

// The interface's packet counter ("rx_packets"/"tx_packets"), or -1 when unreadable.
long long InterfaceCounter(const std::string& iface, const std::string& counter) {
  if (iface.empty()) return -1;
  std::ifstream in("/sys/class/net/" + iface + "/statistics/" + counter);
  long long value = -1;
  if (!(in >> value)) return -1;
  return value;
}

void Store64(unsigned char* at, uint64_t value) { std::memcpy(at, &value, sizeof value); }
uint64_t Load64(const unsigned char* at) {
  uint64_t value = 0;
  std::memcpy(&value, at, sizeof value);
  return value;
}

struct Flags {
  std::map<std::string, std::string> values;
  std::string error;
};

Flags ParseFlags(int argc, char** argv, int first, const std::vector<std::string>& known) {
  Flags flags;
  for (int i = first; i < argc; ++i) {
    const std::string flag = argv[i];
    if (std::find(known.begin(), known.end(), flag) == known.end()) {
      flags.error = "unknown flag " + flag;
      return flags;
    }
    if (i + 1 >= argc) {
      flags.error = flag + " needs a value";
      return flags;
    }
    flags.values[flag] = argv[++i];
  }
  return flags;
}

bool ParseNumber(const std::string& text, double& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return errno == 0 && end != text.c_str() && *end == '\0';
}

struct SenderResult {
  uint64_t sent = 0;
  uint64_t offered = 0;
  uint64_t send_errors = 0;
  Clock::time_point last{};
  std::string error;
};

// One connected socket sending `rate` datagrams per second for `seconds` from `start`;
// sequence numbers start at `first_sequence`.
SenderResult SendPaced(const sockaddr_in& address, double rate, double seconds, size_t bytes,
                       uint64_t run, uint64_t first_sequence, Clock::time_point start) {
  SenderResult result;
  result.last = start;
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    result.error = std::string("socket/connect: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return result;
  }
  std::vector<std::vector<unsigned char>> buffers(kMaxBatch, std::vector<unsigned char>(bytes));
  std::vector<iovec> iovs(kMaxBatch);
  std::vector<mmsghdr> messages(kMaxBatch);
  for (size_t i = 0; i < kMaxBatch; ++i) {
    Store64(buffers[i].data(), run);
    iovs[i] = {buffers[i].data(), bytes};
    messages[i] = {};
    messages[i].msg_hdr.msg_iov = &iovs[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  // Small batches at low rates (bursts of ~50 us), up to 64 per call when far behind.
  const auto batch = static_cast<uint64_t>(std::clamp(rate / 20000, 1.0, double{kMaxBatch}));
  const auto total = static_cast<uint64_t>(rate * seconds);
  result.offered = total;
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  uint64_t& sent = result.sent;
  while (sent < total) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    const auto due = std::min(total, static_cast<uint64_t>(Seconds(now - start) * rate) + 1);
    if (due < sent + std::min(batch, total - sent)) {
      const double wake = static_cast<double>(sent + std::min(batch, total - sent)) / rate;
      std::this_thread::sleep_until(
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wake)));
      continue;
    }
    const auto count = static_cast<unsigned>(std::min<uint64_t>(due - sent, kMaxBatch));
    for (unsigned i = 0; i < count; ++i) {
      Store64(buffers[i].data() + 8, first_sequence + sent + i);
    }
    const int done = ::sendmmsg(fd, messages.data(), count, 0);
    if (done < 0) {
      ++result.send_errors;  // ENOBUFS and the like: the datagram is not sent, try again later
      continue;
    }
    sent += static_cast<uint64_t>(done);
    result.last = Clock::now();
  }
  ::close(fd);
  return result;
}

int Send(const Flags& flags) {
  const auto to = flags.values.find("--to");
  if (to == flags.values.end()) return Usage("send needs --to IP:PORT");
  const auto colon = to->second.rfind(':');
  sockaddr_in address{};
  address.sin_family = AF_INET;
  double port = 0;
  if (colon == std::string::npos || !ParseNumber(to->second.substr(colon + 1), port) || port < 1 ||
      port > 65535 ||
      inet_pton(AF_INET, to->second.substr(0, colon).c_str(), &address.sin_addr) != 1) {
    return Usage("--to must be IPv4:PORT, not " + to->second);
  }
  address.sin_port = htons(static_cast<uint16_t>(port));
  double rate = 0;
  double seconds = 0;
  double size = 64;
  double run = 1;
  if (!flags.values.contains("--rate") || !ParseNumber(flags.values.at("--rate"), rate) ||
      rate < 1 || rate > 1e8) {
    return Usage("send needs --rate PPS (1..1e8)");
  }
  if (!flags.values.contains("--seconds") || !ParseNumber(flags.values.at("--seconds"), seconds) ||
      seconds <= 0 || seconds > 600) {
    return Usage("send needs --seconds S (0..600)");
  }
  if (flags.values.contains("--size") &&
      (!ParseNumber(flags.values.at("--size"), size) || size < kHeaderBytes || size > kMaxSize)) {
    return Usage("--size must be 16..1472");
  }
  if (flags.values.contains("--run") && !ParseNumber(flags.values.at("--run"), run)) {
    return Usage("--run must be a number");
  }
  const std::string iface =
      flags.values.contains("--interface") ? flags.values.at("--interface") : std::string();

  double threads = 1;
  if (flags.values.contains("--threads") &&
      (!ParseNumber(flags.values.at("--threads"), threads) || threads < 1 || threads > 16)) {
    return Usage("--threads must be 1..16");
  }
  const auto bytes = static_cast<size_t>(size);
  const auto senders = static_cast<size_t>(threads);
  std::vector<SenderResult> results(senders);
  const long long tx_before = InterfaceCounter(iface, "tx_packets");
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (size_t i = 0; i < senders; ++i) {
    workers.emplace_back([&, i] {
      results[i] = SendPaced(address, rate / threads, seconds, bytes, static_cast<uint64_t>(run),
                             uint64_t{i} << 40, start);
    });
  }
  for (auto& worker : workers) worker.join();
  const long long tx_after = InterfaceCounter(iface, "tx_packets");
  uint64_t sent = 0;
  uint64_t offered = 0;
  uint64_t send_errors = 0;
  auto last = start;
  for (const auto& result : results) {
    if (!result.error.empty()) {
      std::fprintf(stderr, "udp_blast: %s to %s\n", result.error.c_str(), to->second.c_str());
      return 1;
    }
    sent += result.sent;
    offered += result.offered;
    send_errors += result.send_errors;
    last = std::max(last, result.last);
  }
  const double elapsed = std::max(Seconds(last - start), 1e-9);
  std::printf(
      "{\"sent\": %llu, \"offered\": %llu, \"seconds\": %.6f, \"pps\": %.1f, "
      "\"send_errors\": %llu, \"size\": %zu, \"threads\": %zu, \"if_tx_packets\": %lld}\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(offered), elapsed,
      static_cast<double>(sent) / elapsed, static_cast<unsigned long long>(send_errors), bytes,
      senders, tx_before < 0 || tx_after < 0 ? -1LL : tx_after - tx_before);
  return 0;
}

int Receive(const Flags& flags) {
  double port = 0;
  double seconds = 0;
  double idle = 0.5;
  double size = 64;
  double run = 1;
  if (!flags.values.contains("--port") || !ParseNumber(flags.values.at("--port"), port) ||
      port < 1 || port > 65535) {
    return Usage("receive needs --port PORT");
  }
  if (!flags.values.contains("--seconds") || !ParseNumber(flags.values.at("--seconds"), seconds) ||
      seconds <= 0 || seconds > 3600) {
    return Usage("receive needs --seconds S (0..3600)");
  }
  if (flags.values.contains("--idle") &&
      (!ParseNumber(flags.values.at("--idle"), idle) || idle <= 0)) {
    return Usage("--idle must be a positive number of seconds");
  }
  if (flags.values.contains("--size") &&
      (!ParseNumber(flags.values.at("--size"), size) || size < kHeaderBytes || size > kMaxSize)) {
    return Usage("--size must be 16..1472");
  }
  if (flags.values.contains("--run") && !ParseNumber(flags.values.at("--run"), run)) {
    return Usage("--run must be a number");
  }
  const std::string iface =
      flags.values.contains("--interface") ? flags.values.at("--interface") : std::string();

  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  // A 4 MiB buffer: the receiver's own scheduling hiccups are not the path's loss.
  const int buffer = 4 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
  const timeval poll_every{0, 50'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &poll_every, sizeof poll_every);
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    std::fprintf(stderr, "udp_blast: socket/bind to port %d: %s\n", static_cast<int>(port),
                 std::strerror(errno));
    return 1;
  }
  const long long rx_before = InterfaceCounter(iface, "rx_packets");
  constexpr size_t kSlot = 2048;
  std::vector<unsigned char> storage(kMaxBatch * kSlot);
  std::vector<iovec> iovs(kMaxBatch);
  std::vector<mmsghdr> messages(kMaxBatch);
  uint64_t received = 0;
  uint64_t wrong_size = 0;
  uint64_t foreign = 0;
  uint64_t max_sequence = 0;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto idle_for =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(idle));
  Clock::time_point first{};
  Clock::time_point last{};
  while (true) {
    const auto now = Clock::now();
    if (now >= deadline || (received > 0 && now - last >= idle_for)) break;
    for (size_t i = 0; i < kMaxBatch; ++i) {
      iovs[i] = {storage.data() + i * kSlot, kSlot};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iovs[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(fd, messages.data(), kMaxBatch, MSG_WAITFORONE, nullptr);
    if (got <= 0) continue;  // the 50 ms poll timeout, or a signal
    for (int i = 0; i < got; ++i) {
      const unsigned char* data = storage.data() + static_cast<size_t>(i) * kSlot;
      const size_t length = messages[static_cast<size_t>(i)].msg_len;
      if (length < kHeaderBytes || Load64(data) != static_cast<uint64_t>(run)) {
        ++foreign;
        continue;
      }
      if (length != static_cast<size_t>(size)) ++wrong_size;
      ++received;
      max_sequence = std::max(max_sequence, Load64(data + 8));
    }
    last = Clock::now();
    if (first == Clock::time_point{}) first = last;
  }
  const long long rx_after = InterfaceCounter(iface, "rx_packets");
  ::close(fd);
  std::printf(
      "{\"received\": %llu, \"wrong_size\": %llu, \"foreign\": %llu, \"max_sequence\": %llu, "
      "\"seconds\": %.6f, \"if_rx_packets\": %lld}\n",
      static_cast<unsigned long long>(received), static_cast<unsigned long long>(wrong_size),
      static_cast<unsigned long long>(foreign), static_cast<unsigned long long>(max_sequence),
      received > 0 ? Seconds(last - first) : 0.0,
      rx_before < 0 || rx_after < 0 ? -1LL : rx_after - rx_before);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("say send or receive");
  const std::string mode = argv[1];
  if (mode == "--help" || mode == "-h" || mode == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (mode == "send") {
    auto flags =
        ParseFlags(argc, argv, 2,
                   {"--to", "--rate", "--seconds", "--size", "--run", "--interface", "--threads"});
    if (!flags.error.empty()) return Usage(flags.error);
    return Send(flags);
  }
  if (mode == "receive") {
    auto flags = ParseFlags(argc, argv, 2,
                            {"--port", "--seconds", "--idle", "--size", "--run", "--interface"});
    if (!flags.error.empty()) return Usage(flags.error);
    return Receive(flags);
  }
  return Usage("unknown mode " + mode + " (send or receive)");
}
