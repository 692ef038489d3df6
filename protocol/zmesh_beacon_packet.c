/*  zmesh_beacon_packet.c: signed beacon codec (see zmesh_beacon_packet.h). */
#include "zmesh_beacon_packet.h"
#include "zmesh_error.h"
#include <sodium.h>
#include <string.h>

#define S_SIGNED_SIZE (ZMESH_BEACON_SIZE - ZMESH_SIGNATURE_SIZE)
static const uint8_t s_magic [4] = {'Z', 'M', 'B', 0x01};

int
zmesh_beacon_encode (const zmesh_beacon_t *beacon,
                     const uint8_t secret [ZMESH_SECRET_SIZE],
                     uint8_t packet [ZMESH_BEACON_SIZE])
{
    if (beacon->port == 0)
        return ZMESH_EINVAL;
    memcpy (packet, s_magic, 4);
    packet [4] = beacon->flags;
    packet [5] = (uint8_t) (beacon->port >> 8);
    packet [6] = (uint8_t) beacon->port;
    memcpy (packet + 7, beacon->sign_public, ZMESH_KEY_SIZE);
    for (int i = 0; i < 8; i++)
        packet [39 + i] = (uint8_t) (beacon->generation >> (56 - 8 * i));
    crypto_sign_ed25519_detached (packet + S_SIGNED_SIZE, NULL, packet, S_SIGNED_SIZE, secret);
    return ZMESH_OK;
}

int
zmesh_beacon_decode (zmesh_beacon_t *beacon, const uint8_t *packet, size_t size)
{
    if (!packet || size != ZMESH_BEACON_SIZE || memcmp (packet, s_magic, 4) != 0)
        return ZMESH_EPROTO;
    uint16_t port = (uint16_t) (packet [5] << 8 | packet [6]);
    if (port == 0 || (packet [4] & ~ZMESH_BEACON_FLAG_LEAVING))
        return ZMESH_EPROTO;
    if (crypto_sign_ed25519_verify_detached (packet + S_SIGNED_SIZE, packet, S_SIGNED_SIZE,
                                             packet + 7)
        != 0)
        return ZMESH_ECRYPTO;
    beacon->flags = packet [4];
    beacon->port = port;
    memcpy (beacon->sign_public, packet + 7, ZMESH_KEY_SIZE);
    beacon->generation = 0;
    for (int i = 0; i < 8; i++)
        beacon->generation = beacon->generation << 8 | packet [39 + i];
    return ZMESH_OK;
}
