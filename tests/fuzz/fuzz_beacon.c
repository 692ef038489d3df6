/*  fuzz_beacon.c: libFuzzer target for the beacon decoder (zmesh_beacon_decode).

    Any datagram from the LAN: the decoder returns ZMESH_OK, ZMESH_EPROTO or ZMESH_ECRYPTO and
    nothing else, never reads past `size`, and what it accepts has a valid layout. Inputs of
    other sizes are also decoded as prefixes of 111 bytes, so the fuzzer reaches the
    signature check instead of spending its time on the size check.
*/
#include "zmesh_beacon_packet.h"
#include "zmesh_error.h"
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_decode (const uint8_t *data, size_t size)
{
    zmesh_beacon_t beacon;
    int rc = zmesh_beacon_decode (&beacon, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO || rc == ZMESH_ECRYPTO);
    if (rc != ZMESH_OK)
        return;
    ZMESH_ASSERT (size == ZMESH_BEACON_SIZE);
    ZMESH_ASSERT (beacon.port != 0);
    ZMESH_ASSERT ((beacon.flags & ~ZMESH_BEACON_FLAG_LEAVING) == 0);
    ZMESH_ASSERT (memcmp (beacon.sign_public, data + 7, ZMESH_KEY_SIZE) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static bool initialized;
    if (!initialized) {
        ZMESH_ASSERT (sodium_init () >= 0);
        initialized = true;
    }
    s_decode (data, size);
    if (size > ZMESH_BEACON_SIZE)
        s_decode (data, ZMESH_BEACON_SIZE);
    return 0;
}
