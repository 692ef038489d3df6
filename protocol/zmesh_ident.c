/*  zmesh_ident.c: node ids, key conversion, hex and contact strings (see zmesh_ident.h). */
#include "zmesh_ident.h"
#include "zmesh_error.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int
zmesh_public_from_sign_key (zmesh_public_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE])
{
    memcpy (self->sign_public, sign_public, ZMESH_KEY_SIZE);
    if (crypto_sign_ed25519_pk_to_curve25519 (self->curve_public, sign_public) != 0)
        return ZMESH_ECRYPTO;
    zmesh_id_from_curve_key (&self->id, self->curve_public);
    return ZMESH_OK;
}

void
zmesh_id_from_curve_key (zmesh_id_t *id, const uint8_t curve_public [ZMESH_KEY_SIZE])
{
    crypto_generichash (id->bytes, ZMESH_ID_SIZE, curve_public, ZMESH_KEY_SIZE, NULL, 0);
}

bool
zmesh_id_equal (const zmesh_id_t *a, const zmesh_id_t *b)
{
    return memcmp (a->bytes, b->bytes, ZMESH_ID_SIZE) == 0;
}

uint64_t
zmesh_id_hash (const zmesh_id_t *id)
{
    uint64_t a, b;
    memcpy (&a, id->bytes, sizeof a);
    memcpy (&b, id->bytes + 8, sizeof b);
    return zmesh_mix64 (a ^ (b * 0x9e3779b97f4a7c15ull));
}

void
zmesh_hex_encode (char *dest, const uint8_t *src, size_t size)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        dest [2 * i] = digits [src [i] >> 4];
        dest [2 * i + 1] = digits [src [i] & 15];
    }
    dest [2 * size] = 0;
}

static int
s_hex_digit (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Case-insensitive equality with a lowercase name, without the locale (ctype is per locale).
static bool
s_name_equal (const char *text, const char *name)
{
    for (; *name; text++, name++) {
        char c = *text;
        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (c != *name)
            return false;
    }
    return *text == '\0';
}

int
zmesh_name_index (const char *text, const char *const *names, int count)
{
    for (int i = 0; text && i < count; i++)
        if (s_name_equal (text, names [i]))
            return i;
    return -1;
}

int
zmesh_hex_decode (uint8_t *dest, size_t size, const char *hex)
{
    if (!hex || strlen (hex) != 2 * size)
        return ZMESH_EINVAL;
    for (size_t i = 0; i < size; i++) {
        int hi = s_hex_digit (hex [2 * i]);
        int lo = s_hex_digit (hex [2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ZMESH_EINVAL;
        dest [i] = (uint8_t) (hi << 4 | lo);
    }
    return ZMESH_OK;
}

void
zmesh_id_to_hex (const zmesh_id_t *id, char hex [ZMESH_ID_HEX_SIZE])
{
    zmesh_hex_encode (hex, id->bytes, ZMESH_ID_SIZE);
}

static bool
s_host_char_ok (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
           || c == '-' || c == '_' || c == ':';
}

int
zmesh_endpoint_check (const char *endpoint, bool for_bind)
{
    if (!endpoint || strncmp (endpoint, "tcp://", 6) != 0)
        return ZMESH_EINVAL;
    size_t len = strlen (endpoint);
    if (len >= ZMESH_ENDPOINT_MAX)
        return ZMESH_EINVAL;
    const char *host = endpoint + 6;
    const char *colon = strrchr (host, ':');
    if (!colon || colon == host)
        return ZMESH_EINVAL;
    //  Host: '*' (bind only), [v6], or name / IPv4 characters.
    size_t host_len = (size_t) (colon - host);
    if (host [0] == '[') {
        if (host [host_len - 1] != ']' || host_len < 3)
            return ZMESH_EINVAL;
        for (size_t i = 1; i < host_len - 1; i++)
            if (!s_host_char_ok (host [i]))
                return ZMESH_EINVAL;
    }
    else if (host_len == 1 && host [0] == '*') {
        if (!for_bind)
            return ZMESH_EINVAL;
    }
    else {
        for (size_t i = 0; i < host_len; i++)
            if (!s_host_char_ok (host [i]) || host [i] == ':')
                return ZMESH_EINVAL;
    }
    const char *port = colon + 1;
    if (strcmp (port, "*") == 0)
        return for_bind ? ZMESH_OK : ZMESH_EINVAL;
    if (*port == 0 || strlen (port) > 5)
        return ZMESH_EINVAL;
    long value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9')
            return ZMESH_EINVAL;
        value = value * 10 + (*p - '0');
    }
    if (value < 1 || value > 65535)
        return ZMESH_EINVAL;
    return ZMESH_OK;
}

int
zmesh_contact_parse (const char *contact, char *endpoint, uint8_t sign_public [ZMESH_KEY_SIZE])
{
    if (!contact)
        return ZMESH_EINVAL;
    const char *hash = strchr (contact, '#');
    if (!hash || (size_t) (hash - contact) >= ZMESH_ENDPOINT_MAX)
        return ZMESH_EINVAL;
    size_t len = (size_t) (hash - contact);
    char buffer [ZMESH_ENDPOINT_MAX];
    memcpy (buffer, contact, len);
    buffer [len] = 0;
    if (zmesh_endpoint_check (buffer, false))
        return ZMESH_EINVAL;
    uint8_t key [ZMESH_KEY_SIZE];
    if (zmesh_hex_decode (key, ZMESH_KEY_SIZE, hash + 1))
        return ZMESH_EINVAL;
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, key))
        return ZMESH_EINVAL;
    memcpy (endpoint, buffer, len + 1);
    memcpy (sign_public, key, ZMESH_KEY_SIZE);
    return ZMESH_OK;
}

void
zmesh_contact_format (char *dest, const char *endpoint, const uint8_t sign_public [ZMESH_KEY_SIZE])
{
    char hex [ZMESH_KEY_HEX_SIZE];
    zmesh_hex_encode (hex, sign_public, ZMESH_KEY_SIZE);
    snprintf (dest, ZMESH_CONTACT_MAX, "%s#%s", endpoint, hex);
}
