// libcrypto only (no libssl): digests, HMAC, scrypt, the CSPRNG and constant-time comparison.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
