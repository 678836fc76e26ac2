// TlsSession: the server side of one TLS connection on a non-blocking socket, driven by the
// HttpServer's epoll loop.
//
// Every call returns at once. When OpenSSL needs the socket to become readable or writable
// first (SSL_ERROR_WANT_READ / WANT_WRITE, in either direction: a read may need to write
// during the handshake, a write may need to read), the call reports kBlocked and
// read_wants() / write_wants() say which epoll event the caller must wait for before calling the
// same operation again; the write is retried with the same bytes. The socket is read and written
// with recv/send(MSG_NOSIGNAL), so a peer that went away never raises SIGPIPE.
// Ownership: holds the SSL object, not the file descriptor (the caller closes it after
// destroying the session). Threading: one thread at a time (the epoll thread).
//
//   TlsSession tls(context, fd);
//   auto step = tls.Handshake();            // kBlocked: again on tls.read_wants()
//   auto got = tls.Read(buffer, size);      // kData: got.bytes of plaintext
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/http/tls_context.h"

using SSL = struct ssl_st;

namespace dove::controller::http {

class TlsSession {
 public:
  struct Result {
    enum Kind { kData, kBlocked, kClosed, kFailed };
    Kind kind = kFailed;
    size_t bytes = 0;   // kData: plaintext bytes read or written (Handshake: 0)
    std::string error;  // kFailed: OpenSSL's reason, for logs and counters
  };

  TlsSession(const TlsContext& context, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // kData once the handshake is done (then established() is true).
  Result Handshake();
  // Up to `size` bytes of plaintext; kClosed at the peer's close_notify or end of stream.
  Result Read(char* buffer, size_t size);
  // Writes part or all of `size` (> 0) bytes; after kBlocked, call again with the same bytes.
  Result Write(const char* data, size_t size);
  // Sends close_notify, best effort (nothing is waited for).
  void Shutdown();

  bool established() const { return established_; }
  // Decrypted or received bytes OpenSSL holds that the socket will not signal again.
  bool pending() const;
  // EPOLLIN or EPOLLOUT: what a blocked Handshake/Read waits for (0: not blocked).
  uint32_t read_wants() const { return read_wants_; }
  // EPOLLIN or EPOLLOUT: what a blocked Write waits for (0: not blocked).
  uint32_t write_wants() const { return write_wants_; }

 private:
  Result Finish(int returned, uint32_t& wants);

  SSL* ssl_;
  int fd_;  // the BIO's socket
  bool established_ = false;
  uint32_t read_wants_ = 0;   // of Handshake and Read
  uint32_t write_wants_ = 0;  // of Write
};

}  // namespace dove::controller::http
