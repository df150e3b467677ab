#ifndef TWEETER_COPENSSL_H
#define TWEETER_COPENSSL_H

#include <stdint.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

// MARK: libssl macros, for the Gateway's TLS handler

/// SSL_OP_* are built with the function-like macro SSL_OP_BIT, which Swift does not import.
static const uint64_t tweeter_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;

/// SSL_CTX_set_min_proto_version: 1 on success.
int tweeter_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
/// SSL_CTX_set_max_proto_version: 1 on success.
int tweeter_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
/// SSL_set_tlsext_host_name (the SNI a client sends): 1 on success.
int tweeter_SSL_set_tlsext_host_name(SSL *ssl, const char *name);

#endif
