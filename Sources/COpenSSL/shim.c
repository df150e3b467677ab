// Functions for the OpenSSL macros that Swift cannot call directly. Keep this file tiny.
#include "COpenSSL.h"
