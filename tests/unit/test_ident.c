/*  test_ident.c: node ids, key conversion, hex, endpoints and contacts, as usage examples.

    The id is self-certifying: computed from the key, never taken on trust. Endpoints and
    contacts come from configs and the network, so every malformed form is refused with
    ZMESH_EINVAL (and a key that is no Ed25519 point with ZMESH_ECRYPTO).
*/
#include "zmesh_error.h"
#include "zmesh_ident.h"
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

static int
s_setup (void **state)
{
    return sodium_init () < 0 ? -1 : 0;
}

//  A node's public identity, all derived from its Ed25519 key.
static void
test_public_from_sign_key (void **state)
{
    uint8_t pk [crypto_sign_PUBLICKEYBYTES], sk [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk, sk);
    zmesh_public_t pub;
    assert_int_equal (zmesh_public_from_sign_key (&pub, pk), ZMESH_OK);
    assert_memory_equal (pub.sign_public, pk, ZMESH_KEY_SIZE);
    //  The CURVE key is libsodium's conversion of the signing key...
    uint8_t curve [ZMESH_KEY_SIZE];
    assert_int_equal (crypto_sign_ed25519_pk_to_curve25519 (curve, pk), 0);
    assert_memory_equal (pub.curve_public, curve, ZMESH_KEY_SIZE);
    //  ...and matches the public half of the converted secret key, which CURVE will use.
    uint8_t curve_secret [ZMESH_KEY_SIZE], curve_from_secret [ZMESH_KEY_SIZE];
    assert_int_equal (crypto_sign_ed25519_sk_to_curve25519 (curve_secret, sk), 0);
    crypto_scalarmult_base (curve_from_secret, curve_secret);
    assert_memory_equal (pub.curve_public, curve_from_secret, ZMESH_KEY_SIZE);
    //  The id is the first 16 bytes of BLAKE2b of the CURVE key.
    zmesh_id_t id;
    zmesh_id_from_curve_key (&id, curve);
    assert_true (zmesh_id_equal (&id, &pub.id));
    uint8_t hash [ZMESH_ID_SIZE];
    crypto_generichash (hash, sizeof hash, curve, sizeof curve, NULL, 0);
    assert_memory_equal (id.bytes, hash, ZMESH_ID_SIZE);
    //  Another key, another id.
    uint8_t pk2 [crypto_sign_PUBLICKEYBYTES], sk2 [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk2, sk2);
    zmesh_public_t pub2;
    assert_int_equal (zmesh_public_from_sign_key (&pub2, pk2), ZMESH_OK);
    assert_false (zmesh_id_equal (&pub.id, &pub2.id));
}

//  Bytes that are not an Ed25519 point (or a small-order one) are not a key.
static void
test_public_from_bad_key (void **state)
{
    uint8_t key [ZMESH_KEY_SIZE];
    zmesh_public_t pub;
    memset (key, 0, sizeof key);  //  small order
    assert_int_equal (zmesh_public_from_sign_key (&pub, key), ZMESH_ECRYPTO);
    key [0] = 1;  //  the identity point
    assert_int_equal (zmesh_public_from_sign_key (&pub, key), ZMESH_ECRYPTO);
    memset (key, 0xff, sizeof key);  //  not canonical
    assert_int_equal (zmesh_public_from_sign_key (&pub, key), ZMESH_ECRYPTO);
}

static void
test_hex (void **state)
{
    static const uint8_t bytes [] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char hex [2 * sizeof bytes + 1];
    zmesh_hex_encode (hex, bytes, sizeof bytes);
    assert_string_equal (hex, "00017f80abff");
    uint8_t back [sizeof bytes];
    assert_int_equal (zmesh_hex_decode (back, sizeof back, hex), ZMESH_OK);
    assert_memory_equal (back, bytes, sizeof bytes);
    //  Either case in, lowercase out.
    assert_int_equal (zmesh_hex_decode (back, sizeof back, "00017F80ABFF"), ZMESH_OK);
    assert_memory_equal (back, bytes, sizeof bytes);
    //  Exactly 2 * size digits, nothing else.
    assert_int_equal (zmesh_hex_decode (back, sizeof back, "00017f80abf"), ZMESH_EINVAL);
    assert_int_equal (zmesh_hex_decode (back, sizeof back, "00017f80abff0"), ZMESH_EINVAL);
    assert_int_equal (zmesh_hex_decode (back, sizeof back, "00017f80abfg"), ZMESH_EINVAL);
    assert_int_equal (zmesh_hex_decode (back, sizeof back, "00017f80ab f"), ZMESH_EINVAL);
    assert_int_equal (zmesh_hex_decode (back, sizeof back, "0x017f80abff"), ZMESH_EINVAL);
    assert_int_equal (zmesh_hex_decode (back, sizeof back, ""), ZMESH_EINVAL);
    assert_int_equal (zmesh_hex_decode (back, sizeof back, NULL), ZMESH_EINVAL);
    //  Zero bytes: the empty string only.
    assert_int_equal (zmesh_hex_decode (back, 0, ""), ZMESH_OK);
    zmesh_hex_encode (hex, bytes, 0);
    assert_string_equal (hex, "");
}

static void
test_id_to_hex (void **state)
{
    zmesh_id_t id;
    for (int i = 0; i < ZMESH_ID_SIZE; i++)
        id.bytes [i] = (uint8_t) (i * 17);
    char hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (&id, hex);
    assert_string_equal (hex, "00112233445566778899aabbccddeeff");
    zmesh_id_t back;
    assert_int_equal (zmesh_hex_decode (back.bytes, ZMESH_ID_SIZE, hex), ZMESH_OK);
    assert_true (zmesh_id_equal (&id, &back));
}

//  What a peer may connect to, and what a node may bind.
static void
test_endpoint_check (void **state)
{
    static const struct {
        const char *endpoint;
        int connect;  //  expected for_bind = false
        int bind;     //  expected for_bind = true
    } cases [] = {
        {"tcp://127.0.0.1:7700", ZMESH_OK, ZMESH_OK},
        {"tcp://node-1.example.org:1", ZMESH_OK, ZMESH_OK},
        {"tcp://host_name:65535", ZMESH_OK, ZMESH_OK},
        {"tcp://[::1]:7700", ZMESH_OK, ZMESH_OK},
        {"tcp://[fe80::1:2]:80", ZMESH_OK, ZMESH_OK},
        {"tcp://*:7700", ZMESH_EINVAL, ZMESH_OK},
        {"tcp://127.0.0.1:*", ZMESH_EINVAL, ZMESH_OK},
        {"tcp://*:*", ZMESH_EINVAL, ZMESH_OK},
        {"tcp://h:0", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h:65536", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h:123456", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h:", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h:-1", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h:+80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h:80 ", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://::1:80", ZMESH_EINVAL, ZMESH_EINVAL},  //  IPv6 needs brackets
        {"tcp://[]:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://[::1:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://[::1]x:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h/x:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://h h:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"tcp://eth0;h:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"udp://h:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"ipc:///tmp/x", ZMESH_EINVAL, ZMESH_EINVAL},
        {"TCP://h:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"h:80", ZMESH_EINVAL, ZMESH_EINVAL},
        {"", ZMESH_EINVAL, ZMESH_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int connect = zmesh_endpoint_check (cases [i].endpoint, false);
        int bind = zmesh_endpoint_check (cases [i].endpoint, true);
        if (connect != cases [i].connect || bind != cases [i].bind)
            fail_msg ("'%s': connect %s bind %s", cases [i].endpoint, zmesh_error_name (connect),
                      zmesh_error_name (bind));
    }
    assert_int_equal (zmesh_endpoint_check (NULL, false), ZMESH_EINVAL);
}

//  An endpoint of ZMESH_ENDPOINT_MAX - 1 characters fits; one more does not.
static void
test_endpoint_length_limit (void **state)
{
    char endpoint [ZMESH_ENDPOINT_MAX + 1];
    strcpy (endpoint, "tcp://");
    memset (endpoint + 6, 'h', ZMESH_ENDPOINT_MAX - 1 - 6 - 3);
    strcpy (endpoint + ZMESH_ENDPOINT_MAX - 1 - 3, ":80");
    assert_int_equal (strlen (endpoint), ZMESH_ENDPOINT_MAX - 1);
    assert_int_equal (zmesh_endpoint_check (endpoint, false), ZMESH_OK);
    memmove (endpoint + 7, endpoint + 6, strlen (endpoint + 6) + 1);
    assert_int_equal (strlen (endpoint), ZMESH_ENDPOINT_MAX);
    assert_int_equal (zmesh_endpoint_check (endpoint, false), ZMESH_EINVAL);
}

//  A contact names where to connect and which key to expect there.
static void
test_contact_round_trip (void **state)
{
    uint8_t pk [crypto_sign_PUBLICKEYBYTES], sk [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk, sk);
    char contact [ZMESH_CONTACT_MAX];
    zmesh_contact_format (contact, "tcp://10.1.2.3:7700", pk);
    char hex [ZMESH_KEY_HEX_SIZE];
    zmesh_hex_encode (hex, pk, ZMESH_KEY_SIZE);
    char expect [ZMESH_CONTACT_MAX];
    snprintf (expect, sizeof expect, "tcp://10.1.2.3:7700#%s", hex);
    assert_string_equal (contact, expect);

    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    assert_int_equal (zmesh_contact_parse (contact, endpoint, key), ZMESH_OK);
    assert_string_equal (endpoint, "tcp://10.1.2.3:7700");
    assert_memory_equal (key, pk, ZMESH_KEY_SIZE);

    //  Uppercase hex is the same key; an IPv6 endpoint works too.
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char) (*p - 'a' + 'A');
    snprintf (contact, sizeof contact, "tcp://[::1]:9#%s", hex);
    assert_int_equal (zmesh_contact_parse (contact, endpoint, key), ZMESH_OK);
    assert_string_equal (endpoint, "tcp://[::1]:9");
    assert_memory_equal (key, pk, ZMESH_KEY_SIZE);

    //  The longest endpoint still makes a contact that fits ZMESH_CONTACT_MAX.
    char long_endpoint [ZMESH_ENDPOINT_MAX];
    strcpy (long_endpoint, "tcp://");
    memset (long_endpoint + 6, 'h', ZMESH_ENDPOINT_MAX - 1 - 6 - 3);
    strcpy (long_endpoint + ZMESH_ENDPOINT_MAX - 1 - 3, ":80");
    zmesh_contact_format (contact, long_endpoint, pk);
    assert_int_equal (strlen (contact), ZMESH_ENDPOINT_MAX - 1 + 1 + 2 * ZMESH_KEY_SIZE);
    assert_int_equal (zmesh_contact_parse (contact, endpoint, key), ZMESH_OK);
    assert_string_equal (endpoint, long_endpoint);
}

//  Each malformed contact is ZMESH_EINVAL, and leaves the outputs untouched.
static void
test_contact_negative (void **state)
{
    uint8_t pk [crypto_sign_PUBLICKEYBYTES], sk [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk, sk);
    char hex [ZMESH_KEY_HEX_SIZE];
    zmesh_hex_encode (hex, pk, ZMESH_KEY_SIZE);
    char zeros [ZMESH_KEY_HEX_SIZE];
    memset (zeros, '0', 2 * ZMESH_KEY_SIZE);
    zeros [2 * ZMESH_KEY_SIZE] = 0;

    char cases [12][ZMESH_CONTACT_MAX + 64];
    int n = 0;
    snprintf (cases [n++], sizeof cases [0], "tcp://h:1");                  //  no key
    snprintf (cases [n++], sizeof cases [0], "tcp://h:1#");                 //  empty key
    snprintf (cases [n++], sizeof cases [0], "tcp://h:1#%.62s", hex);       //  short key
    snprintf (cases [n++], sizeof cases [0], "tcp://h:1#%s0", hex);         //  long key
    snprintf (cases [n++], sizeof cases [0], "tcp://h:1#%s", zeros);        //  not a point
    snprintf (cases [n++], sizeof cases [0], "tcp://h:1#%s#%s", hex, hex);  //  two keys
    snprintf (cases [n++], sizeof cases [0], "tcp://*:1#%s", hex);          //  bind-only host
    snprintf (cases [n++], sizeof cases [0], "tcp://h:0#%s", hex);          //  bad port
    snprintf (cases [n++], sizeof cases [0], "udp://h:1#%s", hex);          //  not tcp
    snprintf (cases [n++], sizeof cases [0], "#%s", hex);                   //  no endpoint
    snprintf (cases [n++], sizeof cases [0], "%s", hex);                    //  key alone
    //  An endpoint of ZMESH_ENDPOINT_MAX characters.
    char *c = cases [n++];
    strcpy (c, "tcp://");
    memset (c + 6, 'h', ZMESH_ENDPOINT_MAX - 6 - 3);
    snprintf (c + ZMESH_ENDPOINT_MAX - 3, sizeof cases [0] - (ZMESH_ENDPOINT_MAX - 3), ":80#%s",
              hex);

    for (int i = 0; i < n; i++) {
        char endpoint [ZMESH_ENDPOINT_MAX];
        uint8_t key [ZMESH_KEY_SIZE];
        memset (endpoint, 'E', sizeof endpoint);
        memset (key, 0xee, sizeof key);
        int rc = zmesh_contact_parse (cases [i], endpoint, key);
        if (rc != ZMESH_EINVAL)
            fail_msg ("case %d '%s': %s", i, cases [i], zmesh_error_name (rc));
        assert_int_equal (endpoint [0], 'E');
        assert_int_equal (key [0], 0xee);
    }
    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    assert_int_equal (zmesh_contact_parse (NULL, endpoint, key), ZMESH_EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_public_from_sign_key),
        cmocka_unit_test (test_public_from_bad_key),
        cmocka_unit_test (test_hex),
        cmocka_unit_test (test_id_to_hex),
        cmocka_unit_test (test_endpoint_check),
        cmocka_unit_test (test_endpoint_length_limit),
        cmocka_unit_test (test_contact_round_trip),
        cmocka_unit_test (test_contact_negative),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
