/*  zmesh_trust.c: trust store and the process-wide ZAP handler (see zmesh_trust.h). */
#include "zmesh_trust.h"
#include "zmesh_error.h"
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>

struct zmesh_trust_t {
    pthread_mutex_t mutex;
    char *dir;                               //  DATA/trusted
    bool open;                               //  admit any key
    uint64_t version;                        //  bumped by each add
    size_t count;                            //  keys admitted
    uint8_t (*curve_keys) [ZMESH_KEY_SIZE];  //  X25519 forms, ZMESH_TRUST_KEYS_MAX entries
    uint8_t self_key [ZMESH_KEY_SIZE];       //  the node's own X25519 key: always admitted
    bool has_self;
};

zmesh_trust_t *
zmesh_trust_new (const char *dir, bool open)
{
    zmesh_trust_t *self = (zmesh_trust_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (dir);
    self->curve_keys = calloc (ZMESH_TRUST_KEYS_MAX, ZMESH_KEY_SIZE);
    if (!self->dir || !self->curve_keys) {
        zmesh_trust_destroy (&self);
        return NULL;
    }
    self->open = open;
    pthread_mutex_init (&self->mutex, NULL);
    return self;
}

void
zmesh_trust_destroy (zmesh_trust_t **self_p)
{
    if (*self_p) {
        zmesh_trust_t *self = *self_p;
        pthread_mutex_destroy (&self->mutex);
        free (self->dir);
        free (self->curve_keys);
        free (self);
        *self_p = NULL;
    }
}

static bool
s_has (zmesh_trust_t *self, const uint8_t curve_public [ZMESH_KEY_SIZE])
{
    for (size_t i = 0; i < self->count; i++)
        if (memcmp (self->curve_keys [i], curve_public, ZMESH_KEY_SIZE) == 0)
            return true;
    return false;
}

static int
s_write_key_file (zmesh_trust_t *self, const zmesh_public_t *pub)
{
    char id_hex [ZMESH_ID_HEX_SIZE], key_hex [ZMESH_KEY_HEX_SIZE], path [4096], tmp [4200];
    zmesh_id_to_hex (&pub->id, id_hex);
    zmesh_hex_encode (key_hex, pub->sign_public, ZMESH_KEY_SIZE);
    if (mkdir (self->dir, 0700) != 0 && errno != EEXIST)
        return ZMESH_EIO;
    snprintf (path, sizeof path, "%s/%s.key", self->dir, id_hex);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *file = fopen (tmp, "w");
    if (!file)
        return ZMESH_EIO;
    bool ok = fprintf (file, "%s\n", key_hex) > 0;
    ok = (fflush (file) == 0) && ok && fsync (fileno (file)) == 0;
    ok = (fclose (file) == 0) && ok;
    if (!ok || rename (tmp, path) != 0) {
        unlink (tmp);
        return ZMESH_EIO;
    }
    return ZMESH_OK;
}

int
zmesh_trust_add (zmesh_trust_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE], bool persist)
{
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, sign_public))
        return ZMESH_EINVAL;
    int rc = persist ? s_write_key_file (self, &pub) : ZMESH_OK;
    if (rc)
        return rc;
    pthread_mutex_lock (&self->mutex);
    if (!s_has (self, pub.curve_public)) {
        if (self->count == ZMESH_TRUST_KEYS_MAX)
            rc = ZMESH_ELIMIT;
        else {
            memcpy (self->curve_keys [self->count++], pub.curve_public, ZMESH_KEY_SIZE);
            self->version++;
        }
    }
    pthread_mutex_unlock (&self->mutex);
    return rc;
}

int
zmesh_trust_load_dir (zmesh_trust_t *self, char *err, size_t err_size)
{
    if (mkdir (self->dir, 0700) != 0 && errno != EEXIST) {
        snprintf (err, err_size, "cannot create %s: %s", self->dir, strerror (errno));
        return ZMESH_EIO;
    }
    DIR *dir = opendir (self->dir);
    if (!dir) {
        snprintf (err, err_size, "cannot read %s: %s", self->dir, strerror (errno));
        return ZMESH_EIO;
    }
    int rc = ZMESH_OK;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (dir))) {
        size_t len = strlen (entry->d_name);
        if (len < 5 || strcmp (entry->d_name + len - 4, ".key") != 0)
            continue;
        char path [4096], line [256] = "";
        snprintf (path, sizeof path, "%s/%s", self->dir, entry->d_name);
        FILE *file = fopen (path, "r");
        bool read_ok = file && fgets (line, sizeof line, file);
        if (file)
            fclose (file);
        line [strcspn (line, " \r\n")] = 0;
        uint8_t key [ZMESH_KEY_SIZE];
        if (!read_ok || zmesh_hex_decode (key, ZMESH_KEY_SIZE, line)
            || zmesh_trust_add (self, key, false)) {
            snprintf (err, err_size, "%s: expected one Ed25519 public key, 64 hex digits", path);
            rc = ZMESH_ECONFIG;
        }
    }
    closedir (dir);
    return rc;
}

bool
zmesh_trust_is_open (zmesh_trust_t *self)
{
    return self->open;
}

bool
zmesh_trust_allows_curve (zmesh_trust_t *self, const uint8_t curve_public [ZMESH_KEY_SIZE])
{
    if (self->open)
        return true;
    pthread_mutex_lock (&self->mutex);
    bool allowed =
        s_has (self, curve_public)
        || (self->has_self && memcmp (self->self_key, curve_public, ZMESH_KEY_SIZE) == 0);
    pthread_mutex_unlock (&self->mutex);
    return allowed;
}

void
zmesh_trust_set_self (zmesh_trust_t *self, const uint8_t curve_public [ZMESH_KEY_SIZE])
{
    pthread_mutex_lock (&self->mutex);
    memcpy (self->self_key, curve_public, ZMESH_KEY_SIZE);
    self->has_self = true;
    pthread_mutex_unlock (&self->mutex);
}

size_t
zmesh_trust_count (zmesh_trust_t *self)
{
    pthread_mutex_lock (&self->mutex);
    size_t count = self->count;
    pthread_mutex_unlock (&self->mutex);
    return count;
}

uint64_t
zmesh_trust_version (zmesh_trust_t *self)
{
    pthread_mutex_lock (&self->mutex);
    uint64_t version = self->version;
    pthread_mutex_unlock (&self->mutex);
    return version;
}

//  --------------------------------------------------------------------------------------------
//  The process-wide ZAP handler

#define S_DOMAINS_MAX       256  //  nodes one process may run
#define S_ZAP_BIND_ATTEMPTS 40   //  tries to bind the ZAP endpoint,
#define S_ZAP_BIND_PAUSE_MS 50   //  this far apart

typedef struct {
    char domain [ZMESH_ID_HEX_SIZE];
    zmesh_trust_t *trust;
    zmesh_metrics_t *metrics;
} s_domain_t;

static pthread_mutex_t s_zap_mutex = PTHREAD_MUTEX_INITIALIZER;
static s_domain_t s_domains [S_DOMAINS_MAX];
static size_t s_domain_count;
static zactor_t *s_zap;

//  Judge one request; returns the status code and fills user_id on success.
static const char *
s_zap_judge (const char *domain, const char *mechanism, zframe_t *credential, char *user_id)
{
    pthread_mutex_lock (&s_zap_mutex);
    s_domain_t *entry = NULL;
    for (size_t i = 0; i < s_domain_count; i++)
        if (strcmp (s_domains [i].domain, domain) == 0)
            entry = &s_domains [i];
    const char *status = "400";
    if (!entry)
        ;  //  a socket of a node that is gone, or not ours: refuse
    else if (strcmp (mechanism, "CURVE") != 0 || !credential
             || zframe_size (credential) != ZMESH_KEY_SIZE)
        zmesh_metrics_add (entry->metrics, ZMESH_M_CONN_REFUSED_MECHANISM, 1);
    else if (!zmesh_trust_allows_curve (entry->trust, zframe_data (credential)))
        zmesh_metrics_add (entry->metrics, ZMESH_M_CONN_REFUSED_UNTRUSTED, 1);
    else {
        zmesh_hex_encode (user_id, zframe_data (credential), ZMESH_KEY_SIZE);
        status = "200";
    }
    pthread_mutex_unlock (&s_zap_mutex);
    return status;
}

static void
s_zap_handle (zsock_t *handler)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *request_id = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credential = zmsg_pop (request);
    char user_id [ZMESH_KEY_HEX_SIZE] = "";
    const char *status = "400";
    if (version && request_id && domain && mechanism && streq (version, "1.0"))
        status = s_zap_judge (domain, mechanism, credential, user_id);
    zsock_send (handler, "ssssss", "1.0", request_id ? request_id : "", status,
                streq (status, "200") ? "OK" : "refused", user_id, "");
    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&identity);
    zstr_free (&mechanism);
    zframe_destroy (&credential);
    zmsg_destroy (&request);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    //  zactor_new does not pass a start status on: say it in words, as zmesh's actors do.
    //  A handler just stopped (the last node went, a new one comes) releases the endpoint in
    //  libzmq's reaper thread, a moment later: retry for a bounded while.
    zsock_t *handler = zsock_new (ZMQ_REP);
    bool bound = false;
    for (int attempt = 0; handler && !bound && attempt < S_ZAP_BIND_ATTEMPTS; attempt++)
        if (!(bound = zsock_bind (handler, "inproc://zeromq.zap.01") == 0))
            zclock_sleep (S_ZAP_BIND_PAUSE_MS);
    zstr_send (pipe, bound ? "READY" : "FAILED");
    if (!bound) {
        zsock_destroy (&handler);
        return;
    }
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == handler)
            s_zap_handle (handler);
        else {
            //  $TERM or interrupted: either way the handler's work is over
            char *command = which == pipe ? zstr_recv (pipe) : NULL;
            bool term = !which || !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        }
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
}

int
zmesh_zap_register (const char *domain, zmesh_trust_t *trust, zmesh_metrics_t *metrics)
{
    if (strlen (domain) >= ZMESH_ID_HEX_SIZE)
        return ZMESH_EINVAL;
    pthread_mutex_lock (&s_zap_mutex);
    int rc = ZMESH_OK;
    if (s_domain_count == S_DOMAINS_MAX)
        rc = ZMESH_ELIMIT;
    else if (!s_zap) {
        s_zap = zactor_new (s_zap_actor, NULL);
        char *status = s_zap ? zstr_recv (s_zap) : NULL;
        if (!status || !streq (status, "READY")) {
            //  Another ZAP handler (CZMQ's zauth, say) holds the endpoint: refuse to run
            //  rather than let it judge our connections.
            if (s_zap)
                zsock_set_rcvtimeo (zactor_sock (s_zap), 0);
            zactor_destroy (&s_zap);
            rc = ZMESH_EIO;
        }
        zstr_free (&status);
    }
    if (rc == 0) {
        s_domain_t *entry = &s_domains [s_domain_count++];
        snprintf (entry->domain, sizeof entry->domain, "%s", domain);
        entry->trust = trust;
        entry->metrics = metrics;
    }
    pthread_mutex_unlock (&s_zap_mutex);
    return rc;
}

void
zmesh_zap_unregister (const char *domain)
{
    pthread_mutex_lock (&s_zap_mutex);
    for (size_t i = 0; i < s_domain_count; i++)
        if (strcmp (s_domains [i].domain, domain) == 0) {
            s_domains [i] = s_domains [--s_domain_count];
            break;
        }
    zactor_t *actor = NULL;
    if (s_domain_count == 0) {
        actor = s_zap;
        s_zap = NULL;
    }
    pthread_mutex_unlock (&s_zap_mutex);
    //  Outside the lock: the handler thread may be waiting for it to judge a request.
    zactor_destroy (&actor);
}
