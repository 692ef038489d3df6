/*  test_identity.c: a node's identity on disk and its trust store, as usage examples.

    The identity is created once and read back the same; a file others can read, a damaged
    one, or one whose two halves do not belong together is refused with a message naming it.
    Trusted keys live one per file; a bad file is an error naming it, never a crash.
*/
#include "zmesh_error.h"
#include "zmesh_identity.h"
#include "zmesh_trust.h"
#include <czmq.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>

static char s_dir [256];
static char s_err [1024];

static int
s_setup (void **state)
{
    const char *tmp = getenv ("ZMESH_TEST_TMP") ? getenv ("ZMESH_TEST_TMP") : "/tmp";
    zsys_dir_create ("%s", tmp);
    snprintf (s_dir, sizeof s_dir, "%s/test_identity_%d_XXXXXX", tmp, (int) getpid ());
    return mkdtemp (s_dir) ? 0 : -1;
}

static int
s_teardown (void **state)
{
    char command [512];
    snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
    return system (command) == 0 ? 0 : -1;
}

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

//  First load creates DATA and DATA/identity (0600); the next load reads the same identity.
static void
test_create_then_load (void **state)
{
    char data [300], path [400];
    snprintf (data, sizeof data, "%s/node", s_dir);
    zmesh_identity_t first, second;
    bool created;
    assert_int_equal (zmesh_identity_load (&first, data, &created, s_err, sizeof s_err), 0);
    assert_true (created);
    snprintf (path, sizeof path, "%s/identity", data);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (zmesh_identity_load (&second, data, &created, s_err, sizeof s_err), 0);
    assert_false (created);
    assert_string_equal (first.id_hex, second.id_hex);
    assert_string_equal (first.key_hex, second.key_hex);
    //  The id is the one derived from the public key.
    zmesh_public_t pub;
    assert_int_equal (zmesh_public_from_sign_key (&pub, second.pub.sign_public), 0);
    assert_true (zmesh_id_equal (&pub.id, &second.pub.id));
    zmesh_identity_wipe (&second);
    for (size_t i = 0; i < sizeof second.sign_secret; i++)
        assert_int_equal (second.sign_secret [i], 0);
}

//  Refused: readable by others, damaged, halves that do not match.
static void
test_bad_identity_files (void **state)
{
    char data [300], path [400];
    snprintf (data, sizeof data, "%s/bad", s_dir);
    zmesh_identity_t identity;
    bool created;
    assert_int_equal (zmesh_identity_load (&identity, data, &created, s_err, sizeof s_err), 0);
    snprintf (path, sizeof path, "%s/identity", data);

    chmod (path, 0644);
    assert_int_equal (zmesh_identity_load (&identity, data, &created, s_err, sizeof s_err),
                      ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "chmod 600"));

    s_write (path, "ed25519-secret-key = not-hex\n");
    chmod (path, 0600);
    assert_int_equal (zmesh_identity_load (&identity, data, &created, s_err, sizeof s_err),
                      ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, path));

    //  A seed with someone else's public half.
    uint8_t pk [32], sk [64], other_pk [32], other_sk [64];
    crypto_sign_keypair (pk, sk);
    crypto_sign_keypair (other_pk, other_sk);
    memcpy (sk + 32, other_pk, 32);
    char text [300] = "ed25519-secret-key = ";
    for (int i = 0; i < 64; i++)
        sprintf (text + strlen (text), "%02x", sk [i]);
    strcat (text, "\n");
    s_write (path, text);
    assert_int_not_equal (zmesh_identity_load (&identity, data, &created, s_err, sizeof s_err), 0);
}

//  Trusted mode admits only added keys; open mode admits any. Adds persist as files.
static void
test_trust_store (void **state)
{
    char dir [300];
    snprintf (dir, sizeof dir, "%s/trusted", s_dir);
    zmesh_trust_t *trust = zmesh_trust_new (dir, false);
    assert_non_null (trust);
    assert_int_equal (zmesh_trust_load_dir (trust, s_err, sizeof s_err), 0);
    zmesh_identity_t peer;
    assert_int_equal (zmesh_identity_generate (&peer), 0);
    assert_false (zmesh_trust_allows_curve (trust, peer.pub.curve_public));
    uint64_t version = zmesh_trust_version (trust);
    assert_int_equal (zmesh_trust_add (trust, peer.pub.sign_public, true), 0);
    assert_true (zmesh_trust_allows_curve (trust, peer.pub.curve_public));
    assert_true (zmesh_trust_version (trust) > version);
    assert_int_equal (zmesh_trust_count (trust), 1);
    //  Adding again changes nothing.
    assert_int_equal (zmesh_trust_add (trust, peer.pub.sign_public, true), 0);
    assert_int_equal (zmesh_trust_count (trust), 1);
    zmesh_trust_destroy (&trust);
    assert_null (trust);

    //  A fresh store reads the file back.
    trust = zmesh_trust_new (dir, false);
    assert_int_equal (zmesh_trust_load_dir (trust, s_err, sizeof s_err), 0);
    assert_true (zmesh_trust_allows_curve (trust, peer.pub.curve_public));
    zmesh_trust_destroy (&trust);

    //  Open mode admits a stranger.
    zmesh_identity_t stranger;
    zmesh_identity_generate (&stranger);
    trust = zmesh_trust_new (dir, true);
    assert_true (zmesh_trust_is_open (trust));
    assert_true (zmesh_trust_allows_curve (trust, stranger.pub.curve_public));
    zmesh_trust_destroy (&trust);

    //  Not a key: refused.
    trust = zmesh_trust_new (dir, false);
    uint8_t junk [32];
    memset (junk, 0xff, sizeof junk);  //  no Ed25519 point
    assert_int_equal (zmesh_trust_add (trust, junk, false), ZMESH_EINVAL);
    zmesh_trust_destroy (&trust);
}

//  A malformed file in DATA/trusted/ is an error that names it.
static void
test_trust_bad_file (void **state)
{
    char dir [300], path [400];
    snprintf (dir, sizeof dir, "%s/trusted-bad", s_dir);
    mkdir (dir, 0700);
    snprintf (path, sizeof path, "%s/broken.key", dir);
    s_write (path, "this is not a key\n");
    zmesh_trust_t *trust = zmesh_trust_new (dir, false);
    assert_int_equal (zmesh_trust_load_dir (trust, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "broken.key"));
    zmesh_trust_destroy (&trust);
    //  Files not named *.key are not read.
    unlink (path);
    snprintf (path, sizeof path, "%s/README", dir);
    s_write (path, "keys go in *.key files\n");
    trust = zmesh_trust_new (dir, false);
    assert_int_equal (zmesh_trust_load_dir (trust, s_err, sizeof s_err), 0);
    assert_int_equal (zmesh_trust_count (trust), 0);
    zmesh_trust_destroy (&trust);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_create_then_load),
        cmocka_unit_test (test_bad_identity_files),
        cmocka_unit_test (test_trust_store),
        cmocka_unit_test (test_trust_bad_file),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
