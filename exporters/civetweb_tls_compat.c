/* A shim that lets Debian 12's civetweb (1.15) use OpenSSL 3 for HTTPS.
 *
 * civetweb does not link OpenSSL: it dlopens "libssl.so" and looks its functions up with
 * dlsym, by their OpenSSL 1.1 names. One of them, SSL_get_peer_certificate, is only a macro
 * in OpenSSL 3, so the lookup fails and every HTTPS port fails to start (civetweb issue
 * #1334). This library carries the soname "libssl.so", so once HttpLibrary has loaded it, the
 * dynamic loader hands it to civetweb's dlopen("libssl.so"); dlsym then finds the missing
 * function here and every other one in the real libssl.so.3 this library depends on.
 * Nothing else in the program uses it. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

/* What the name meant before OpenSSL 3: the peer's certificate, with a reference the caller
 * frees. */
X509* SSL_get_peer_certificate(const SSL* ssl);
X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }
