/*  test_beacon_packet.c: the signed 111-byte UDP beacon, as usage examples.

    A beacon arrives from anyone on the LAN, so a receiver must refuse every packet that is
    not exactly what its key signed. The central test flips each of the 888 bits of a valid
    packet in turn and checks the exact refusal: ZMESH_EPROTO where the layout itself is wrong
    (magic, unknown flag bits, port 0), ZMESH_ECRYPTO everywhere the signature catches it.
*/
#include "zmesh_beacon_packet.h"
#include "zmesh_error.h"
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

typedef struct {
    uint8_t sign_public [crypto_sign_PUBLICKEYBYTES];
    uint8_t sign_secret [crypto_sign_SECRETKEYBYTES];
} s_keys_t;

static int
s_setup (void **state)
{
    if (sodium_init () < 0)
        return -1;
    s_keys_t *keys = malloc (sizeof *keys);
    if (!keys)
        return -1;
    crypto_sign_keypair (keys->sign_public, keys->sign_secret);
    *state = keys;
    return 0;
}

static int
s_teardown (void **state)
{
    free (*state);
    return 0;
}

static void
s_beacon (zmesh_beacon_t *beacon, const s_keys_t *keys)
{
    memset (beacon, 0, sizeof *beacon);
    beacon->flags = 0;
    beacon->port = 7700;
    memcpy (beacon->sign_public, keys->sign_public, ZMESH_KEY_SIZE);
    beacon->generation = 0x0102030405060708ull;
}

//  Sign with the node's secret key, verify with the key inside the packet.
static void
test_round_trip (void **state)
{
    const s_keys_t *keys = *state;
    zmesh_beacon_t beacon;
    s_beacon (&beacon, keys);
    uint8_t packet [ZMESH_BEACON_SIZE];
    assert_int_equal (zmesh_beacon_encode (&beacon, keys->sign_secret, packet), ZMESH_OK);
    //  The layout of docs/protocol.md, byte for byte.
    assert_memory_equal (packet, "ZMB\x01", 4);
    assert_int_equal (packet [4], 0);
    assert_int_equal (packet [5], 7700 >> 8);
    assert_int_equal (packet [6], 7700 & 0xff);
    assert_memory_equal (packet + 7, keys->sign_public, ZMESH_KEY_SIZE);
    assert_memory_equal (packet + 39, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal (crypto_sign_verify_detached (packet + 47, packet, 47, keys->sign_public), 0);

    zmesh_beacon_t decoded;
    memset (&decoded, 0xcc, sizeof decoded);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_OK);
    assert_int_equal (decoded.flags, 0);
    assert_int_equal (decoded.port, 7700);
    assert_memory_equal (decoded.sign_public, keys->sign_public, ZMESH_KEY_SIZE);
    assert_true (decoded.generation == beacon.generation);

    //  The leaving flag, the extreme port and generation.
    beacon.flags = ZMESH_BEACON_FLAG_LEAVING;
    beacon.port = 65535;
    beacon.generation = UINT64_MAX;
    assert_int_equal (zmesh_beacon_encode (&beacon, keys->sign_secret, packet), ZMESH_OK);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_OK);
    assert_int_equal (decoded.flags, ZMESH_BEACON_FLAG_LEAVING);
    assert_int_equal (decoded.port, 65535);
    assert_true (decoded.generation == UINT64_MAX);
}

static void
test_encode_refuses_port_zero (void **state)
{
    const s_keys_t *keys = *state;
    zmesh_beacon_t beacon;
    s_beacon (&beacon, keys);
    beacon.port = 0;
    uint8_t packet [ZMESH_BEACON_SIZE];
    assert_int_equal (zmesh_beacon_encode (&beacon, keys->sign_secret, packet), ZMESH_EINVAL);
}

//  The error a single flipped bit must produce, by the field it lands in.
static int
s_expected_error (const uint8_t *valid, size_t byte, int bit)
{
    if (byte < 4)
        return ZMESH_EPROTO;  //  magic
    if (byte == 4)
        return bit == 0 ? ZMESH_ECRYPTO : ZMESH_EPROTO;  //  leaving is signed; others unknown
    if (byte == 5 || byte == 6) {
        uint16_t port = (uint16_t) (valid [5] << 8 | valid [6]);
        port ^= (uint16_t) (1u << (bit + (byte == 5 ? 8 : 0)));
        return port == 0 ? ZMESH_EPROTO : ZMESH_ECRYPTO;
    }
    return ZMESH_ECRYPTO;  //  key, generation, signature
}

static void
test_every_bit_flip_is_refused (void **state)
{
    const s_keys_t *keys = *state;
    zmesh_beacon_t beacon;
    s_beacon (&beacon, keys);
    //  Port 1 has a single bit set, so one flip makes it 0: that case is covered too.
    for (int round = 0; round < 2; round++) {
        beacon.port = round == 0 ? 7700 : 1;
        uint8_t valid [ZMESH_BEACON_SIZE];
        assert_int_equal (zmesh_beacon_encode (&beacon, keys->sign_secret, valid), ZMESH_OK);
        for (size_t byte = 0; byte < ZMESH_BEACON_SIZE; byte++)
            for (int bit = 0; bit < 8; bit++) {
                uint8_t packet [ZMESH_BEACON_SIZE];
                memcpy (packet, valid, sizeof packet);
                packet [byte] ^= (uint8_t) (1u << bit);
                zmesh_beacon_t decoded;
                int rc = zmesh_beacon_decode (&decoded, packet, sizeof packet);
                int expect = s_expected_error (valid, byte, bit);
                if (rc != expect)
                    fail_msg ("port %u, byte %zu bit %d: %s, expected %s", beacon.port, byte, bit,
                              zmesh_error_name (rc), zmesh_error_name (expect));
            }
    }
}

static void
test_wrong_size (void **state)
{
    const s_keys_t *keys = *state;
    zmesh_beacon_t beacon;
    s_beacon (&beacon, keys);
    uint8_t packet [ZMESH_BEACON_SIZE + 1];
    assert_int_equal (zmesh_beacon_encode (&beacon, keys->sign_secret, packet), ZMESH_OK);
    packet [ZMESH_BEACON_SIZE] = 0;
    zmesh_beacon_t decoded;
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, ZMESH_BEACON_SIZE - 1), ZMESH_EPROTO);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, ZMESH_BEACON_SIZE + 1), ZMESH_EPROTO);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, 0), ZMESH_EPROTO);
    assert_int_equal (zmesh_beacon_decode (&decoded, NULL, ZMESH_BEACON_SIZE), ZMESH_EPROTO);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, ZMESH_BEACON_SIZE), ZMESH_OK);
}

//  A beacon claiming one key but signed with another, and one re-signed by an impostor
//  with its own key in place: the first fails, the second verifies (it is simply the
//  impostor's own beacon; trust decides whether to connect, not the beacon).
static void
test_signed_by_another_key (void **state)
{
    const s_keys_t *keys = *state;
    s_keys_t other;
    crypto_sign_keypair (other.sign_public, other.sign_secret);
    zmesh_beacon_t beacon;
    s_beacon (&beacon, keys);
    uint8_t packet [ZMESH_BEACON_SIZE];
    assert_int_equal (zmesh_beacon_encode (&beacon, other.sign_secret, packet), ZMESH_OK);
    zmesh_beacon_t decoded;
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_ECRYPTO);

    memcpy (beacon.sign_public, other.sign_public, ZMESH_KEY_SIZE);
    assert_int_equal (zmesh_beacon_encode (&beacon, other.sign_secret, packet), ZMESH_OK);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_OK);
    assert_memory_equal (decoded.sign_public, other.sign_public, ZMESH_KEY_SIZE);

    //  A replayed signature under a changed generation does not verify.
    packet [46] ^= 1;
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_ECRYPTO);
}

//  All-zero and all-ones packets (with the magic) are refused without a crash.
static void
test_degenerate_packets (void **state)
{
    uint8_t packet [ZMESH_BEACON_SIZE];
    zmesh_beacon_t decoded;
    memset (packet, 0, sizeof packet);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_EPROTO);
    memcpy (packet, "ZMB\x01", 4);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_EPROTO);
    packet [6] = 1;  //  port 1, zero key, zero signature
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_ECRYPTO);
    memset (packet + 5, 0xff, sizeof packet - 5);
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_ECRYPTO);
    memcpy (packet, "ZMB\x02", 4);  //  another version
    assert_int_equal (zmesh_beacon_decode (&decoded, packet, sizeof packet), ZMESH_EPROTO);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_encode_refuses_port_zero),
        cmocka_unit_test (test_every_bit_flip_is_refused),
        cmocka_unit_test (test_wrong_size),
        cmocka_unit_test (test_signed_by_another_key),
        cmocka_unit_test (test_degenerate_packets),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
