/*  fuzz_contact.c: libFuzzer target for contact and endpoint parsing.

    The input, made a C string (a NUL-terminated copy of exactly size + 1 bytes, so ASan sees
    any read past the end), goes through zmesh_contact_parse and zmesh_endpoint_check in both
    modes. A contact that parses gives an endpoint that passes the connect check, and
    formats back to a contact that parses to the same endpoint and key.
*/
#include "zmesh_error.h"
#include "zmesh_ident.h"
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static bool initialized;
    if (!initialized) {
        ZMESH_ASSERT (sodium_init () >= 0);
        initialized = true;
    }
    char *text = malloc (size + 1);
    ZMESH_ASSERT (text);
    memcpy (text, data, size);
    text [size] = 0;

    int connect = zmesh_endpoint_check (text, false);
    int bind = zmesh_endpoint_check (text, true);
    ZMESH_ASSERT (connect == ZMESH_OK || connect == ZMESH_EINVAL);
    ZMESH_ASSERT (bind == ZMESH_OK || bind == ZMESH_EINVAL);
    //  What a peer may connect to, a node may bind.
    ZMESH_ASSERT (connect != ZMESH_OK || bind == ZMESH_OK);
    if (connect == ZMESH_OK)
        ZMESH_ASSERT (strlen (text) < ZMESH_ENDPOINT_MAX);

    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    int rc = zmesh_contact_parse (text, endpoint, key);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EINVAL);
    if (rc == ZMESH_OK) {
        ZMESH_ASSERT (zmesh_endpoint_check (endpoint, false) == ZMESH_OK);
        char contact [ZMESH_CONTACT_MAX];
        zmesh_contact_format (contact, endpoint, key);
        char endpoint2 [ZMESH_ENDPOINT_MAX];
        uint8_t key2 [ZMESH_KEY_SIZE];
        ZMESH_ASSERT (zmesh_contact_parse (contact, endpoint2, key2) == ZMESH_OK);
        ZMESH_ASSERT (strcmp (endpoint, endpoint2) == 0);
        ZMESH_ASSERT (memcmp (key, key2, ZMESH_KEY_SIZE) == 0);
        zmesh_public_t pub;
        ZMESH_ASSERT (zmesh_public_from_sign_key (&pub, key) == ZMESH_OK);
    }
    free (text);
    return 0;
}
