/*  zmesh_ident.h: node ids, keys, and the text forms people and configs use.

    A node has one Ed25519 identity key. Its CURVE (X25519) key pair is derived from it with
    libsodium's Ed25519 -> X25519 conversion. The node id is the first 16 bytes of
    BLAKE2b (CURVE public key): self-certifying, and computable from the key that CURVE
    authenticated on a connection, so a link can check that the sender id in every envelope
    belongs to the key on the wire. Keys and ids are written as lowercase hex.

    A contact is how one node is reached: `tcp://HOST:PORT#KEY`, the endpoint and the node's
    public key (Ed25519, hex). CURVE needs the server's key before it connects, so a seed or a
    join names both.
*/
#ifndef ZMESH_IDENT_H_INCLUDED
#define ZMESH_IDENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZMESH_ID_SIZE        16   //  bytes of a node id
#define ZMESH_KEY_SIZE       32   //  bytes of a public key (Ed25519 or X25519)
#define ZMESH_SECRET_SIZE    64   //  bytes of an Ed25519 secret key (seed + public key)
#define ZMESH_SIGNATURE_SIZE 64   //  bytes of an Ed25519 signature
#define ZMESH_ID_HEX_SIZE    33   //  hex id + NUL
#define ZMESH_KEY_HEX_SIZE   65   //  hex key + NUL
#define ZMESH_ENDPOINT_MAX   256  //  bytes of an endpoint, NUL included
#define ZMESH_CONTACT_MAX    (ZMESH_ENDPOINT_MAX + ZMESH_KEY_HEX_SIZE + 1)

typedef struct {
    uint8_t bytes [ZMESH_ID_SIZE];
} zmesh_id_t;

//  The public half of a node identity: everything needed to address and authenticate it.
typedef struct {
    uint8_t sign_public [ZMESH_KEY_SIZE];   //  Ed25519: verifies this node's signatures
    uint8_t curve_public [ZMESH_KEY_SIZE];  //  X25519: this node's CURVE server/client key
    zmesh_id_t id;                          //  BLAKE2b-128 of curve_public
} zmesh_public_t;

//  Fill curve_public and id from sign_public. ZMESH_ECRYPTO if it is not a valid Ed25519 key.
int zmesh_public_from_sign_key (zmesh_public_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE]);
//  The id of a CURVE public key.
void zmesh_id_from_curve_key (zmesh_id_t *id, const uint8_t curve_public [ZMESH_KEY_SIZE]);
bool zmesh_id_equal (const zmesh_id_t *a, const zmesh_id_t *b);
//  A well-mixed 64-bit hash of an id, for in-memory tables (not on the wire: its value may
//  change between versions). Ids are BLAKE2b hashes, but tests and tools make up ids with few
//  bits set, or sequential ones: both halves are mixed, so that any of them spreads well.
uint64_t zmesh_id_hash (const zmesh_id_t *id);

//  splitmix64's finalizer (Steele, Lea, Flood 2014): every input bit moves every output bit.
//  The SWIM record hash and the node-state digest are defined on it (docs/protocol.md).
static inline uint64_t
zmesh_mix64 (uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

//  Lowercase hex of size bytes into dest (capacity >= 2 * size + 1).
void zmesh_hex_encode (char *dest, const uint8_t *src, size_t size);
//  Exactly 2 * size hex digits (either case) into size bytes; ZMESH_EINVAL otherwise.
int zmesh_hex_decode (uint8_t *dest, size_t size, const char *hex);
//  The index of text in names [0 .. count) (lowercase names), compared without regard to ASCII
//  case and without the locale; -1 if none (or text is NULL). For the name tables of enums.
int zmesh_name_index (const char *text, const char *const *names, int count);
void zmesh_id_to_hex (const zmesh_id_t *id, char hex [ZMESH_ID_HEX_SIZE]);

//  A tcp endpoint as zmesh accepts it: "tcp://HOST:PORT" (PORT 1..65535 or '*' when binding),
//  HOST a name, IPv4 address, '*' (binding) or [IPv6]. ZMESH_EINVAL otherwise.
int zmesh_endpoint_check (const char *endpoint, bool for_bind);

//  Split "tcp://HOST:PORT#KEYHEX" into endpoint (capacity ZMESH_ENDPOINT_MAX) and the
//  Ed25519 public key. The '#KEY' part is required. ZMESH_EINVAL if anything is off.
int zmesh_contact_parse (const char *contact, char *endpoint, uint8_t sign_public [ZMESH_KEY_SIZE]);
//  "ENDPOINT#KEYHEX" into dest (capacity ZMESH_CONTACT_MAX).
void
zmesh_contact_format (char *dest, const char *endpoint, const uint8_t sign_public [ZMESH_KEY_SIZE]);

#endif
