/*  zmesh_wire.h: the envelope every inter-node message travels in, and its typed bodies.

    One message is one msgpack array (docs/protocol.md is the normative text):

        [ version: uint (= 1), type: uint, sender: bin 16, body: array ]

    Decoders are strict: every field's type and size is checked before it is copied into the
    fixed-size struct below, so a decoded message never points into the input and never
    allocates. A body array may carry more elements than this version knows; the extra ones
    are skipped (forward compatibility). An unknown type decodes the header and returns
    ZMESH_ETYPE; another version returns ZMESH_EVERSION; anything malformed is ZMESH_EPROTO.
*/
#ifndef ZMESH_WIRE_H_INCLUDED
#define ZMESH_WIRE_H_INCLUDED

#include "zmesh_ident.h"
#include <stddef.h>
#include <stdint.h>

#define ZMESH_WIRE_VERSION        1
#define ZMESH_NAME_MAX            64     //  bytes of a node name, NUL included
#define ZMESH_SOFTWARE_MAX        32     //  bytes of a software version string, NUL included
#define ZMESH_HELLO_ENDPOINTS_MAX 4      //  endpoints one HELLO may list
#define ZMESH_PEERS_MAX           32     //  peers one PEERS message may list
#define ZMESH_MSG_SIZE_MAX        65536  //  bytes of one encoded envelope, the hard wire limit

typedef enum {
    ZMESH_MSG_HELLO = 1,  //  who I am and where I listen; sent first on every new link
    ZMESH_MSG_PING = 2,   //  liveness probe; the receiver answers PONG with the same seq
    ZMESH_MSG_PONG = 3,   //  answer to PING
    ZMESH_MSG_PEERS = 4,  //  some nodes I know: contact information for discovery
    ZMESH_MSG_LEAVE = 5,  //  I am stopping on purpose: mark me left, not dead
    ZMESH_MSG_STATE = 6,  //  node state anti-entropy: a zmesh_state_codec message as the body
    ZMESH_MSG_SWIM = 7,   //  membership: a zmesh_swim_codec message as the body
    ZMESH_MSG_TYPE_MAX = 7
} zmesh_msg_type_t;

typedef struct {
    char name [ZMESH_NAME_MAX];  //  node name, UTF-8, non-empty
    uint32_t endpoint_count;     //  1..ZMESH_HELLO_ENDPOINTS_MAX
    char endpoints [ZMESH_HELLO_ENDPOINTS_MAX][ZMESH_ENDPOINT_MAX];  //  tcp endpoints
    char software [ZMESH_SOFTWARE_MAX];                              //  e.g. "zmesh 0.1.0"
    uint64_t generation;                                             //  grows at each restart
    uint8_t sign_public [ZMESH_KEY_SIZE];  //  Ed25519 key; its X25519 form must be the CURVE key
} zmesh_hello_t;

//  PING / PONG flags. Unknown bits are ignored (later versions may define them).
#define ZMESH_PING_FLAG_NEED_HELLO 0x01  //  the sender lacks my HELLO: send it again

typedef struct {
    uint64_t seq;         //  echoed by PONG
    uint64_t generation;  //  the sender's generation (a restart shows as a higher one)
    uint8_t flags;        //  ZMESH_PING_FLAG_*
} zmesh_ping_t;

typedef struct {
    uint8_t sign_public [ZMESH_KEY_SIZE];  //  the peer's Ed25519 public key
    char endpoint [ZMESH_ENDPOINT_MAX];    //  where it listens
} zmesh_peer_info_t;

typedef struct {
    uint32_t count;  //  0..ZMESH_PEERS_MAX
    zmesh_peer_info_t peers [ZMESH_PEERS_MAX];
} zmesh_peers_t;

//  STATE and SWIM: the body is another codec's msgpack array (protocol/zmesh_state_codec.h,
//  protocol/zmesh_swim_codec.h), kept as bytes. Decoded, it points into the input (the one
//  exception to copying): valid while the input is.
typedef struct {
    const uint8_t *data;  //  the whole body array, as encoded
    size_t size;
} zmesh_raw_body_t;

typedef struct {
    uint8_t version;    //  ZMESH_WIRE_VERSION
    uint8_t type;       //  zmesh_msg_type_t
    zmesh_id_t sender;  //  claimed sender; links check it against the CURVE key
    union {
        zmesh_hello_t hello;
        zmesh_ping_t ping;  //  PING and PONG
        zmesh_peers_t peers;
        zmesh_raw_body_t state;  //  STATE
        zmesh_raw_body_t swim;   //  SWIM
    } body;
} zmesh_msg_t;

//  Encode msg into buf (capacity bytes). Sets *size. ZMESH_ETOOBIG if it does not fit,
//  ZMESH_EINVAL if msg holds values the wire does not allow.
int zmesh_msg_encode (const zmesh_msg_t *msg, uint8_t *buf, size_t capacity, size_t *size);
//  Decode one envelope from exactly size bytes. See the header comment for the errors.
int zmesh_msg_decode (zmesh_msg_t *msg, const uint8_t *data, size_t size);
//  "HELLO", "PING", ...; "UNKNOWN" for other values.
const char *zmesh_msg_type_name (int type);

#endif
