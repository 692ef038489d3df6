/*  zmesh_error.h: the one error table, and the always-on assertion.

    Three kinds of error (see docs/architecture.md):
    - programmer errors: ZMESH_ASSERT, always on, also in Release builds;
    - operating errors (bad config, malformed packet, peer gone, timeout): a negative ZMESH_E*
      code from the table below, turned into text by zmesh_strerror;
    - limits reached: ZMESH_ELIMIT, never unbounded growth.
    Network input and user configuration never reach an assertion.
*/
#ifndef ZMESH_ERROR_H_INCLUDED
#define ZMESH_ERROR_H_INCLUDED

#include <stdio.h>
#include <stdlib.h>

#define ZMESH_ERRORS(X)                                      \
    X (ZMESH_OK, 0, "success")                               \
    X (ZMESH_EINVAL, -1, "invalid argument")                 \
    X (ZMESH_EPROTO, -2, "malformed message")                \
    X (ZMESH_EVERSION, -3, "protocol version not supported") \
    X (ZMESH_ETOOBIG, -4, "message or field too large")      \
    X (ZMESH_ELIMIT, -5, "limit reached")                    \
    X (ZMESH_ENOMEM, -6, "out of memory")                    \
    X (ZMESH_EIO, -7, "input/output error")                  \
    X (ZMESH_ENOTFOUND, -8, "not found")                     \
    X (ZMESH_ECRYPTO, -9, "bad signature or key")            \
    X (ZMESH_ETIMEOUT, -10, "timed out")                     \
    X (ZMESH_ESTATE, -11, "wrong state for this operation")  \
    X (ZMESH_EUNTRUSTED, -12, "key not trusted")             \
    X (ZMESH_ECONFIG, -13, "bad configuration")              \
    X (ZMESH_ETYPE, -14, "unknown message type")

typedef enum {
#define ZMESH_ERROR_ENUM(name, value, text) name = value,
    ZMESH_ERRORS (ZMESH_ERROR_ENUM)
#undef ZMESH_ERROR_ENUM
} zmesh_error_t;

//  Text for an error code (negative) or ZMESH_OK. Never NULL.
const char *zmesh_strerror (int code);

//  Symbolic name of an error code ("ZMESH_EPROTO"). Never NULL.
const char *zmesh_error_name (int code);

//  Always-on assertion: a failed one is a bug in zmesh, never the fault of input.
#define ZMESH_ASSERT(cond)                                                                        \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf (stderr, "zmesh: assertion failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort ();                                                                             \
        }                                                                                         \
    } while (0)

#endif
