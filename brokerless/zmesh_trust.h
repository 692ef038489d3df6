/*  zmesh_trust.h: which keys may connect to a node, and the ZAP handler that enforces it.

    Trust modes: `trusted` (default) admits only public keys listed in DATA/trusted/ (one file
    per key, named <id>.key, holding the Ed25519 public key in hex) or in the config; `open`
    admits any key. The store is shared by the node's actors and the ZAP handler thread, so
    every call locks. `zmeshctl trust add` writes a file and admits the key at once.

    ZAP (ZeroMQ RFC 27) is per process: one handler thread serves every node of the process,
    telling them apart by the ZAP domain each node's server socket carries (its node id).
    It refuses every mechanism but CURVE, and every CURVE key the domain's store does not
    admit; the User-Id it returns is the client's CURVE key in hex, which links then use to
    check the sender of each envelope.
*/
#ifndef ZMESH_TRUST_H_INCLUDED
#define ZMESH_TRUST_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include "zmesh_metrics.h"
#include <stdbool.h>
#include <stddef.h>

#define ZMESH_TRUST_KEYS_MAX 4096  //  keys one store admits, a limit against runaway growth

typedef struct zmesh_trust_t zmesh_trust_t;

//  dir: where trusted keys live (DATA/trusted, created if missing); open: admit any key.
zmesh_trust_t *zmesh_trust_new (const char *dir, bool open);
void zmesh_trust_destroy (zmesh_trust_t **self_p);
//  Read every *.key file of the directory. A malformed file is an error naming it.
int zmesh_trust_load_dir (zmesh_trust_t *self, char *err, size_t err_size);
//  Admit an Ed25519 public key; persist = also write DATA/trusted/<id>.key.
int zmesh_trust_add (zmesh_trust_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE], bool persist);
bool zmesh_trust_is_open (zmesh_trust_t *self);
bool zmesh_trust_allows_curve (zmesh_trust_t *self, const uint8_t curve_public [ZMESH_KEY_SIZE]);
//  Number of keys admitted explicitly.
size_t zmesh_trust_count (zmesh_trust_t *self);
//  The node's own key (X25519), admitted in every mode without being listed or counted: a
//  node's balancer connects to its own worker like to any other.
void zmesh_trust_set_self (zmesh_trust_t *self, const uint8_t curve_public [ZMESH_KEY_SIZE]);
//  Grows each time a key is added: lets a reader notice a change without a callback.
uint64_t zmesh_trust_version (zmesh_trust_t *self);

//  Serve ZAP for a domain: every server socket with this ZAP domain is judged by trust, and
//  refusals counted in metrics. Starts the process's ZAP thread on first use.
int zmesh_zap_register (const char *domain, zmesh_trust_t *trust, zmesh_metrics_t *metrics);
//  Stop serving a domain; stops the ZAP thread after the last one.
void zmesh_zap_unregister (const char *domain);

#endif
