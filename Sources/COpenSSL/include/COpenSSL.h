#ifndef TWEETER_COPENSSL_H
#define TWEETER_COPENSSL_H

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#endif
