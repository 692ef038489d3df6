/*  zmesh_beacon_packet.h: the signed UDP discovery announcement.

    A beacon is a fixed 111-byte datagram (docs/protocol.md, "Beacon"):

        0   4  magic "ZMB" + version 0x01
        4   1  flags: bit 0 = leaving (the node is stopping)
        5   2  tcp port the node listens on, big-endian (1..65535)
        7  32  Ed25519 public key of the node
        39  8  generation, big-endian
        47 64  Ed25519 signature of bytes 0..46 by that key

    The endpoint is tcp://SENDER-ADDRESS:PORT, the address taken from the datagram itself.
    A receiver drops a datagram of another size or magic (ZMESH_EPROTO) and one whose
    signature does not verify (ZMESH_ECRYPTO), and counts both.
*/
#ifndef ZMESH_BEACON_PACKET_H_INCLUDED
#define ZMESH_BEACON_PACKET_H_INCLUDED

#include "zmesh_ident.h"
#include <stdint.h>

#define ZMESH_BEACON_SIZE         111
#define ZMESH_BEACON_FLAG_LEAVING 0x01

typedef struct {
    uint8_t flags;                         //  ZMESH_BEACON_FLAG_*
    uint16_t port;                         //  tcp port of the node's link endpoint
    uint8_t sign_public [ZMESH_KEY_SIZE];  //  Ed25519 public key
    uint64_t generation;                   //  grows at each restart of the node
} zmesh_beacon_t;

//  Sign and encode. secret is the node's Ed25519 secret key (64 bytes), whose public half
//  must be beacon->sign_public. ZMESH_EINVAL for port 0.
int zmesh_beacon_encode (const zmesh_beacon_t *beacon,
                         const uint8_t secret [ZMESH_SECRET_SIZE],
                         uint8_t packet [ZMESH_BEACON_SIZE]);
//  Verify and decode. ZMESH_EPROTO if malformed, ZMESH_ECRYPTO if the signature fails.
int zmesh_beacon_decode (zmesh_beacon_t *beacon, const uint8_t *packet, size_t size);

#endif
