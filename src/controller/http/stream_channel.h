// StreamChannel: the open body of a streaming response (GET /v1/events, server-sent events).
//
// A producer (the EventHub) pushes bytes from any thread; HttpServer's epoll thread takes them
// and writes them to the client as they come. The channel bounds what one client may have
// waiting: bytes pushed but not yet written to the socket (queued here, plus the part of the
// last take the socket has not accepted yet). A push that would go over `max_buffered` drops
// the client instead of growing the buffer or waiting for it: the channel closes, the push
// returns false and the server closes the connection and counts it
// (dove_http_streams_dropped_total). So a client that stops reading costs at most
// max_buffered bytes and never stalls the producer.
//
// Lifetime: shared by the producer and the server (shared_ptr). Closed by the server when the
// client goes away or the server stops, by an overflow, or by the producer (Close); once
// closed, pushes are refused and the server is never called again (so the channel may
// outlive it).
//
// Threading: every method may be called from any thread. The notify function given to
// Attach runs under the channel's lock: it must not call back into the channel.
//
//   auto channel = std::make_shared<StreamChannel>(1 << 20);
//   response.stream = channel;               // the server attaches it once the head is out
//   channel->Push("event: hello\ndata: {}\n\n");
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace dove::controller::http {

class StreamChannel {
 public:
  explicit StreamChannel(size_t max_buffered) : max_buffered_(max_buffered) {}
  StreamChannel(const StreamChannel&) = delete;
  StreamChannel& operator=(const StreamChannel&) = delete;

  // Queues `bytes` for the client; never blocks. False when the channel is closed, or closes
  // it now because the client is more than max_buffered bytes behind (overflowed() is then
  // true).
  bool Push(std::string_view bytes);
  // Ends the stream from the producer's side: the server closes the connection.
  void Close();
  bool closed() const;
  // Whether the channel closed because its client fell behind (see above).
  bool overflowed() const;

  // Server side. `notify` is called (under the channel's lock) when bytes arrive in an empty
  // queue and when the channel closes; none before Attach (bytes pushed before it wait).
  void Attach(std::function<void()> notify);
  // Every queued byte, moved out. They count against max_buffered until Unsent says the socket
  // took them.
  std::string Take();
  // What the server still holds of the bytes it took (the socket has not accepted them yet).
  void Unsent(size_t bytes);

 private:
  const size_t max_buffered_;
  mutable std::mutex mutex_;
  std::string pending_;
  size_t unsent_ = 0;
  bool closed_ = false;
  bool overflowed_ = false;
  std::function<void()> notify_;
};

}  // namespace dove::controller::http
