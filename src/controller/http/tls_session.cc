#include "controller/http/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>

namespace dove::controller::http {
namespace {

// A socket BIO that writes with MSG_NOSIGNAL (OpenSSL's own uses write(): SIGPIPE when the
// client has gone, and the controller does not ignore SIGPIPE).
int SocketOf(BIO* bio) { return *static_cast<const int*>(BIO_get_data(bio)); }

int BioWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(SocketOf(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

int BioRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(SocketOf(bio), data, static_cast<size_t>(size), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(n);
}

long BioControl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* SocketMethod() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dove socket");
    BIO_meth_set_write(made, BioWrite);
    BIO_meth_set_read(made, BioRead);
    BIO_meth_set_ctrl(made, BioControl);
    BIO_meth_set_create(made, BioCreate);
    return made;
  }();
  return method;
}

}  // namespace

TlsSession::TlsSession(const TlsContext& context, int fd) : ssl_(SSL_new(context.get())), fd_(fd) {
  BIO* bio = BIO_new(SocketMethod());
  BIO_set_data(bio, &fd_);      // the session does not move (not copyable)
  SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Result TlsSession::Finish(int returned, uint32_t& wants) {
  wants = 0;
  if (returned > 0) return Result{Result::kData, static_cast<size_t>(returned), ""};
  switch (SSL_get_error(ssl_, returned)) {
    case SSL_ERROR_WANT_READ:
      wants = EPOLLIN;
      return Result{Result::kBlocked, 0, ""};
    case SSL_ERROR_WANT_WRITE:
      wants = EPOLLOUT;
      return Result{Result::kBlocked, 0, ""};
    case SSL_ERROR_ZERO_RETURN:
      return Result{Result::kClosed, 0, ""};
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        return Result{errno == 0 ? Result::kClosed : Result::kFailed, 0, "connection closed"};
      }
      break;
    default:
      break;
  }
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return Result{Result::kFailed, 0, reason != nullptr ? reason : "TLS error"};
}

TlsSession::Result TlsSession::Handshake() {
  ERR_clear_error();
  errno = 0;
  Result result = Finish(SSL_do_handshake(ssl_), read_wants_);
  if (result.kind == Result::kData || SSL_is_init_finished(ssl_) == 1) {
    established_ = true;
    return Result{Result::kData, 0, ""};
  }
  if (result.kind == Result::kClosed) {
    result.kind = Result::kFailed;  // a client that leaves mid-handshake did not finish it
    result.error = "the client closed the connection during the handshake";
  }
  return result;
}

TlsSession::Result TlsSession::Read(char* buffer, size_t size) {
  ERR_clear_error();
  errno = 0;
  const int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  return Finish(n, read_wants_);
}

TlsSession::Result TlsSession::Write(const char* data, size_t size) {
  ERR_clear_error();
  errno = 0;
  const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  return Finish(n, write_wants_);
}

void TlsSession::Shutdown() {
  ERR_clear_error();
  if (established_) SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool TlsSession::pending() const { return SSL_has_pending(ssl_) == 1; }

}  // namespace dove::controller::http
