/*  zmesh_identity.c: load or create DATA/identity (see zmesh_identity.h). */
#include "zmesh_identity.h"
#include "zmesh_error.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_KEY_PREFIX "ed25519-secret-key = "

static int
s_derive (zmesh_identity_t *self)
{
    //  The secret key file holds seed + public key: the two halves must belong together.
    uint8_t sign_public [ZMESH_KEY_SIZE], check_public [ZMESH_KEY_SIZE], check_secret [64];
    crypto_sign_ed25519_sk_to_pk (sign_public, self->sign_secret);
    crypto_sign_ed25519_seed_keypair (check_public, check_secret, self->sign_secret);
    sodium_memzero (check_secret, sizeof check_secret);
    if (memcmp (check_public, sign_public, ZMESH_KEY_SIZE) != 0)
        return ZMESH_ECRYPTO;
    if (zmesh_public_from_sign_key (&self->pub, sign_public)
        || crypto_sign_ed25519_sk_to_curve25519 (self->curve_secret, self->sign_secret))
        return ZMESH_ECRYPTO;
    zmesh_id_to_hex (&self->pub.id, self->id_hex);
    zmesh_hex_encode (self->key_hex, self->pub.sign_public, ZMESH_KEY_SIZE);
    return ZMESH_OK;
}

int
zmesh_identity_generate (zmesh_identity_t *self)
{
    if (sodium_init () < 0)
        return ZMESH_ECRYPTO;
    uint8_t sign_public [ZMESH_KEY_SIZE];
    crypto_sign_ed25519_keypair (sign_public, self->sign_secret);
    return s_derive (self);
}

void
zmesh_identity_wipe (zmesh_identity_t *self)
{
    sodium_memzero (self->sign_secret, sizeof self->sign_secret);
    sodium_memzero (self->curve_secret, sizeof self->curve_secret);
}

static int
s_create (zmesh_identity_t *self, const char *path, char *err, size_t err_size)
{
    int rc = zmesh_identity_generate (self);
    if (rc)
        return rc;
    char hex [2 * ZMESH_SECRET_SIZE + 1];
    zmesh_hex_encode (hex, self->sign_secret, ZMESH_SECRET_SIZE);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf (err, err_size, "cannot create %s: %s", path, strerror (errno));
        return ZMESH_EIO;
    }
    char text [256];
    int len =
        snprintf (text, sizeof text,
                  "# zmesh node identity: keep it secret (mode 0600)\n" S_KEY_PREFIX "%s\n", hex);
    sodium_memzero (hex, sizeof hex);
    bool ok = write (fd, text, (size_t) len) == len && fsync (fd) == 0;
    sodium_memzero (text, sizeof text);
    close (fd);
    if (!ok) {
        snprintf (err, err_size, "cannot write %s: %s", path, strerror (errno));
        unlink (path);
        return ZMESH_EIO;
    }
    return ZMESH_OK;
}

static int
s_read (zmesh_identity_t *self, const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (stat (path, &st) == 0 && (st.st_mode & 077)) {
        snprintf (err, err_size, "%s is accessible by group or others (mode %03o); chmod 600 it",
                  path, (unsigned) (st.st_mode & 0777));
        return ZMESH_ECONFIG;
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, err_size, "cannot read %s: %s", path, strerror (errno));
        return ZMESH_EIO;
    }
    char line [512];
    int rc = ZMESH_ECONFIG;
    while (fgets (line, sizeof line, file)) {
        if (strncmp (line, S_KEY_PREFIX, strlen (S_KEY_PREFIX)) != 0)
            continue;
        char *hex = line + strlen (S_KEY_PREFIX);
        hex [strcspn (hex, " \r\n")] = 0;
        if (zmesh_hex_decode (self->sign_secret, ZMESH_SECRET_SIZE, hex) == 0)
            rc = s_derive (self);
        break;
    }
    sodium_memzero (line, sizeof line);
    fclose (file);
    if (rc)
        snprintf (err, err_size, "%s: no valid '%s<128 hex digits>' line", path, S_KEY_PREFIX);
    return rc;
}

int
zmesh_identity_load (
    zmesh_identity_t *self, const char *data_dir, bool *created, char *err, size_t err_size)
{
    memset (self, 0, sizeof *self);
    if (sodium_init () < 0) {
        snprintf (err, err_size, "libsodium failed to initialise");
        return ZMESH_ECRYPTO;
    }
    if (mkdir (data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf (err, err_size, "cannot create data directory %s: %s", data_dir, strerror (errno));
        return ZMESH_EIO;
    }
    char path [4096];
    snprintf (path, sizeof path, "%s/identity", data_dir);
    *created = access (path, F_OK) != 0;
    if (*created)
        return s_create (self, path, err, err_size);
    return s_read (self, path, err, err_size);
}
