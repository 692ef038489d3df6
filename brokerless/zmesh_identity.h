/*  zmesh_identity.h: a node's identity on disk, and the keys derived from it.

    DATA/identity holds the node's Ed25519 secret key, as text, mode 0600; it is created on
    first start. Everything else (CURVE key pair, node id) is derived from it, so a node keeps
    its id across restarts and address changes. A file readable by group or others is refused,
    as ssh refuses a private key.
*/
#ifndef ZMESH_IDENTITY_H_INCLUDED
#define ZMESH_IDENTITY_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    uint8_t sign_secret [ZMESH_SECRET_SIZE];  //  Ed25519 secret key (seed + public key)
    uint8_t curve_secret [ZMESH_KEY_SIZE];    //  X25519 secret key derived from it
    zmesh_public_t pub;                       //  public keys and node id
    char id_hex [ZMESH_ID_HEX_SIZE];          //  node id as hex
    char key_hex [ZMESH_KEY_HEX_SIZE];        //  Ed25519 public key as hex: what `keys` shows
} zmesh_identity_t;

//  Load DATA/identity, creating it (and DATA) if missing. *created tells which happened.
//  On error, a message naming the file and the problem is written to err.
int zmesh_identity_load (
    zmesh_identity_t *self, const char *data_dir, bool *created, char *err, size_t err_size);
//  A fresh identity in memory (tests, tools).
int zmesh_identity_generate (zmesh_identity_t *self);
//  Wipe the secret keys.
void zmesh_identity_wipe (zmesh_identity_t *self);

#endif
