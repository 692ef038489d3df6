/*  zmesh_config.c: the table of configuration keys, ZPL loading and validation.

    ZPL (ZeroMQ RFC 4) files are parsed by CZMQ's zconfig; this file then walks the tree and
    sets each key through the table below, so a file, zmesh_config_set and zmeshd's flags get
    the same checks and the same messages. zconfig does not keep line numbers, so an error
    finds the key's line by scanning the file for it (s_line_of).
*/
#include "zmesh_config.h"
#include "zmesh_place.h"
#include <czmq.h>
#include <stddef.h>

typedef enum { S_STR, S_INT, S_BOOL, S_MODE, S_BIND, S_ENDPOINT, S_ACTORS } s_type_t;

typedef struct {
    const char *key;  //  "section/name"
    s_type_t type;
    size_t offset;      //  of the field in struct _zmesh_config_t
    size_t size;        //  of a string field
    long min, max;      //  bounds of an int
    const char *value;  //  default, as text
    const char *unit;   //  "ms", "bytes", "" ...
    const char *doc;    //  one line for docs/config.md
} s_key_t;

#define S_FIELD(f) offsetof (struct _zmesh_config_t, f), sizeof (((struct _zmesh_config_t *) 0)->f)

static const s_key_t s_keys [] = {
    {"node/name", S_STR, S_FIELD (name), 0, 0, "", "",
     "Node name shown to people; default: the host name"},
    {"node/data", S_STR, S_FIELD (data), 0, 0, "", "path",
     "Data directory: identity, trusted keys, control socket (required)"},
    {"node/bind", S_BIND, S_FIELD (bind), 0, 0, "tcp://*:*", "endpoint",
     "CURVE endpoint this node listens on; port * = any free port"},
    {"node/advertise", S_ENDPOINT, S_FIELD (advertise), 0, 0, "", "endpoint",
     "Endpoint peers use to reach this node; default: bind, with a wildcard host replaced"
     " by this host's first non-loopback IPv4 address"},
    {"node/actors", S_ACTORS, S_FIELD (actors), 0, 0,
     "gossip health worker balancer beacon control", "list",
     "Actors to run, space separated: gossip, health, worker, balancer, beacon, control"},
    {"node/spin_us", S_INT, S_FIELD (spin_us), 0, 100000, "200", "us",
     "Time the work plane's threads (balancer, worker, an executor, the API's result wait) keep "
     "looking for the next message before they sleep, while work is out or messages come close "
     "together: lower round-trip latency for some CPU time; 0 sleeps at once"},
    {"trust/mode", S_MODE, S_FIELD (trust_mode), 0, 0, "trusted", "",
     "trusted: only keys in DATA/trusted/ or trust/keys may connect; open: any key"},
    {"beacon/enabled", S_BOOL, S_FIELD (beacon_enabled), 0, 1, "1", "bool",
     "Broadcast and listen for UDP beacons on the LAN"},
    {"beacon/port", S_INT, S_FIELD (beacon_port), 1, 65535, "5670", "UDP port",
     "UDP port of beacons; nodes that should find each other use the same"},
    {"beacon/interval_ms", S_INT, S_FIELD (beacon_interval_ms), 100, 60000, "1000", "ms",
     "Time between two beacons"},
    {"beacon/interface", S_STR, S_FIELD (beacon_interface), 0, 0, "", "",
     "Network interface to beacon on; default: CZMQ's choice (first broadcast-capable)"},
    {"gossip/probe_interval_ms", S_INT, S_FIELD (probe_interval_ms), 50, 60000, "1000", "ms",
     "Time between two probes of an active neighbour (SWIM); a lagging node stretches it"},
    {"gossip/probe_timeout_ms", S_INT, S_FIELD (probe_timeout_ms), 10, 30000, "400", "ms",
     "Wait for a direct ack before asking others to probe; less than probe_interval_ms"},
    {"gossip/indirect_probes", S_INT, S_FIELD (indirect_probes), 0, 7, "3", "peers",
     "Neighbours asked to probe a member that did not answer (PING_REQ)"},
    {"gossip/suspicion_min_ms", S_INT, S_FIELD (suspicion_min_ms), 100, 3600000, "4200", "ms",
     "Time a suspect has to refute before it is dead, once enough neighbours confirm"},
    {"gossip/suspicion_max_ms", S_INT, S_FIELD (suspicion_max_ms), 100, 3600000, "6000", "ms",
     "Time a suspect has to refute before it is dead, with one accuser"},
    {"gossip/active_view", S_INT, S_FIELD (active_view), 1, 8, "4", "links",
     "Neighbours this node keeps links to, probes and floods updates to (HyParView)"},
    {"gossip/passive_view", S_INT, S_FIELD (passive_view), 1, 256, "30", "members",
     "Members kept in reserve to replace a failed neighbour"},
    {"gossip/packet_bytes", S_INT, S_FIELD (packet_bytes), 512, 60000, "1400", "bytes",
     "Largest membership message this node sends (updates are packed within it)"},
    {"gossip/reap_after_ms", S_INT, S_FIELD (reap_after_ms), 1000, 86400000, "60000", "ms",
     "Time a dead or left member stays listed before it is forgotten (and may come back)"},
    {"gossip/max_peers", S_INT, S_FIELD (max_peers), 1, 100000, "1024", "members",
     "Members one node tracks at most; more are refused and counted"},
    {"gossip/max_message_bytes", S_INT, S_FIELD (max_message_bytes), 1024, ZMESH_MSG_SIZE_MAX,
     "65536", "bytes", "Largest envelope accepted; larger ones are dropped and counted"},
    {"gossip/linger_ms", S_INT, S_FIELD (linger_ms), 0, 60000, "1000", "ms",
     "How long a stopping node waits to flush its LEFT record to its neighbours"},
    {"supervisor/restart_backoff_ms", S_INT, S_FIELD (restart_backoff_ms), 1, 600000, "100", "ms",
     "First delay before restarting an actor that died; doubles at each restart"},
    {"supervisor/restart_backoff_max_ms", S_INT, S_FIELD (restart_backoff_max_ms), 1, 3600000,
     "5000", "ms", "Largest restart delay"},
    {"supervisor/stable_after_ms", S_INT, S_FIELD (stable_after_ms), 100, 3600000, "10000", "ms",
     "An actor running this long has its restart delay reset"},
    {"health/interval_ms", S_INT, S_FIELD (health_interval_ms), 500, 3600000, "5000", "ms",
     "Time between two reads of this node's profile (load, memory, disks...)"},
    {"health/bench_budget_ms", S_INT, S_FIELD (health_bench_budget_ms), 0, 10000, "300", "ms",
     "Time the baseline benchmark may take at start; 0 skips it"},
    {"health/publish_min_ms", S_INT, S_FIELD (health_publish_min_ms), 0, 3600000, "30000", "ms",
     "Least time between two publications of the profile when only load, CPU use, free memory "
     "or free disk moved, and not by much; 0: every move past its threshold"},
    {"state/interval_ms", S_INT, S_FIELD (state_interval_ms), 100, 600000, "1000", "ms",
     "Least time between two node-state exchanges over one link, started when a neighbour's "
     "state digest (in its probes) differs from this node's"},
    {"state/budget_bytes", S_INT, S_FIELD (state_budget_bytes), 1200, 60000, "1200", "bytes",
     "Largest node-state message this node sends"},
    {"worker/bind", S_BIND, S_FIELD (worker_bind), 0, 0, "", "endpoint",
     "CURVE endpoint the worker takes tasks on; default: node/bind's host, any free port"},
    {"worker/advertise", S_ENDPOINT, S_FIELD (worker_advertise), 0, 0, "", "endpoint",
     "Endpoint owners use to reach the worker; default: derived as for node/advertise"},
    {"worker/slots", S_INT, S_FIELD (worker_slots), 0, 4096, "0", "threads",
     "Executor threads: tasks this node runs at once; 0 = its CPU cores"},
    {"worker/queue", S_INT, S_FIELD (worker_queue), 1, 1048576, "4096", "tasks",
     "Tasks waiting at most; more are refused (their owners place them elsewhere)"},
    {"worker/aging_ms", S_INT, S_FIELD (worker_aging_ms), 1, 86400000, "5000", "ms",
     "Wait that raises a queued task one priority level, so LOW never starves"},
    {"worker/critical_reserve", S_INT, S_FIELD (worker_critical_reserve), 0, 4095, "1", "slots",
     "Executor slots only CRITICAL tasks may take; at most a quarter of worker/slots are"},
    {"worker/tags", S_STR, S_FIELD (worker_tags), 0, 0, "", "list",
     "Capabilities this node offers, space separated (tasks --require them); gpu is added "
     "when the profile shows a GPU"},
    {"worker/exec_allow", S_STR, S_FIELD (worker_exec_allow), 0, 0, "", "list",
     "Commands the exec handler may run, as NAME=/absolute/path words; empty: exec is off"},
    {"worker/cost", S_INT, S_FIELD (worker_cost), 0, 1000, "0", "permille",
     "This node's cost weight, published with its work offer: placement prefers cheaper nodes "
     "(balancer/weight_cost)"},
    {"worker/lease_interval_ms", S_INT, S_FIELD (worker_lease_interval_ms), 50, 60000, "500", "ms",
     "Time between two lease renewals the worker sends each owner whose tasks it holds"},
    {"worker/steal", S_BOOL, S_FIELD (worker_steal), 0, 1, "1", "bool",
     "Steal queued tasks from busier nodes when this one is idle"},
    {"worker/steal_threshold", S_INT, S_FIELD (worker_steal_threshold), 1, 100000, "800",
     "permille", "A node is worth stealing from at this load: 1000 x (busy + queued) / slots"},
    {"worker/steal_interval_ms", S_INT, S_FIELD (worker_steal_interval_ms), 1, 60000, "20", "ms",
     "Least time between two steal requests of an idle worker"},
    {"balancer/lease_timeout_ms", S_INT, S_FIELD (balancer_lease_timeout_ms), 100, 3600000, "2000",
     "ms",
     "A worker silent this long loses the tasks it holds: they are re-dispatched; more than "
     "worker/lease_interval_ms"},
    {"balancer/window", S_INT, S_FIELD (balancer_window), 1, 1048576, "256", "tasks",
     "Tasks of this owner open on one worker at most; the rest wait here, by priority"},
    {"balancer/max_tasks", S_INT, S_FIELD (balancer_max_tasks), 1, 1048576, "65536", "tasks",
     "Tasks this node owns at once at most; submitters wait beyond"},
    {"balancer/max_retries", S_INT, S_FIELD (balancer_max_retries), 0, 100, "3", "retries",
     "Default re-dispatches of a task after system failures (a task may set its own)"},
    {"balancer/retry_base_ms", S_INT, S_FIELD (balancer_retry_base_ms), 1, 600000, "100", "ms",
     "First retry back-off; doubles per retry, with jitter"},
    {"balancer/retry_max_ms", S_INT, S_FIELD (balancer_retry_max_ms), 1, 3600000, "5000", "ms",
     "Largest retry back-off"},
    {"balancer/place_timeout_ms", S_INT, S_FIELD (balancer_place_timeout_ms), 1, 86400000, "30000",
     "ms", "A task no node can take (handler, tags, resources) fails after this long"},
    {"balancer/strategy", S_STR, S_FIELD (balancer_strategy), 0, 0, "score", "",
     "Default placement: score, auction, hash or local"},
    {"balancer/sample", S_INT, S_FIELD (balancer_sample), 0, 64, "2", "nodes",
     "Remote candidates scored per placement (power of d choices), the local node besides; "
     "0 scores every node"},
    {"balancer/match_threshold", S_INT, S_FIELD (balancer_match_threshold), 0, 1000, "700",
     "permille", "Least capability and resource match score of a candidate"},
    {"balancer/local_threshold", S_INT, S_FIELD (balancer_local_threshold), 0, 1000, "500",
     "permille",
     "The local node takes the task without scoring while its load ((busy + queued) / slots) "
     "is below this; 0: never"},
    {"balancer/weight_queue", S_INT, S_FIELD (balancer_weights [0]), 0, 1000, "250", "permille",
     "Score weight of the queue term, 1 / (1 + load)"},
    {"balancer/weight_cpu", S_INT, S_FIELD (balancer_weights [1]), 0, 1000, "150", "permille",
     "Score weight of CPU headroom, 1 - utilisation"},
    {"balancer/weight_perf", S_INT, S_FIELD (balancer_weights [2]), 0, 1000, "150", "permille",
     "Score weight of past performance of the handler on the node (moving average)"},
    {"balancer/weight_latency", S_INT, S_FIELD (balancer_weights [3]), 0, 1000, "100", "permille",
     "Score weight of the round trip to the node, 1 / (1 + rtt / 1 ms)"},
    {"balancer/weight_memory", S_INT, S_FIELD (balancer_weights [4]), 0, 1000, "100", "permille",
     "Score weight of the free memory left after the task"},
    {"balancer/weight_cost", S_INT, S_FIELD (balancer_weights [5]), 0, 1000, "100", "permille",
     "Score weight of the node's cost, 1 - worker/cost / 1000"},
    {"balancer/weight_match", S_INT, S_FIELD (balancer_weights [6]), 0, 1000, "100", "permille",
     "Score weight of the capability match score"},
    {"balancer/weight_gpu", S_INT, S_FIELD (balancer_weights [7]), 0, 1000, "50", "permille",
     "Score weight of the GPU fit (GPUs a task leaves idle cost)"},
    {"balancer/breaker_failures", S_INT, S_FIELD (balancer_breaker_failures), 1, 1000, "5",
     "failures", "System failures in a row that open a peer's circuit breaker"},
    {"balancer/breaker_open_ms", S_INT, S_FIELD (balancer_breaker_open_ms), 1, 3600000, "30000",
     "ms", "First time a breaker stays open (doubles up to 5 min) before trial tasks"},
    {"scale/interval_ms", S_INT, S_FIELD (scale_interval_ms), 100, 3600000, "5000", "ms",
     "Time between two scaling decisions"},
    {"scale/sla_ms", S_INT, S_FIELD (scale_sla_ms), 1, 3600000, "1000", "ms",
     "Task latency the mesh aims at: D = 0.6 x queue/50 + 0.4 x latency/sla"},
    {"scale/cooldown_ms", S_INT, S_FIELD (scale_cooldown_ms), 0, 86400000, "60000", "ms",
     "After a scale_up or scale_down, time during which only hold is decided"},
    {"scale/exec", S_STR, S_FIELD (scale_exec), 0, 0, "", "command",
     "Command run with a decision to act on: DECISION SCOPE, DECISION scale_up or scale_down, "
     "SCOPE node (this node's) or mesh (the mesh's, run by the node with the lowest id only)"},
    {"log/verbose", S_BOOL, S_FIELD (verbose), 0, 1, "0", "bool",
     "Also log each link as it is made (peer state changes are always logged)"},
};
#define S_KEY_COUNT (sizeof s_keys / sizeof s_keys [0])

static const char *s_actor_names [] = {"gossip",   "health", "worker",
                                       "balancer", "beacon", "control"};

static const s_key_t *
s_lookup (const char *key)
{
    for (size_t i = 0; i < S_KEY_COUNT; i++)
        if (streq (s_keys [i].key, key))
            return &s_keys [i];
    return NULL;
}

static bool
s_actors_ok (const char *list, char *bad, size_t bad_size)
{
    char copy [128];
    snprintf (copy, sizeof copy, "%s", list);
    char *save = NULL;
    for (char *word = strtok_r (copy, " ,", &save); word; word = strtok_r (NULL, " ,", &save)) {
        bool known = false;
        for (size_t i = 0; i < sizeof s_actor_names / sizeof *s_actor_names; i++)
            known = known || streq (word, s_actor_names [i]);
        if (!known) {
            snprintf (bad, bad_size, "%s", word);
            return false;
        }
    }
    return true;
}

static int
s_set (zmesh_config_t *self, const s_key_t *k, const char *value, char *err, size_t err_size)
{
    char *field = (char *) self + k->offset;
    char bad [64];
    switch (k->type) {
        case S_INT:
        case S_BOOL: {
            char *end = NULL;
            errno = 0;
            long number = strtol (value, &end, 10);
            if (!*value || *end || errno || number < k->min || number > k->max) {
                snprintf (err, err_size, "%s: '%s' is not %s %ld..%ld", k->key, value,
                          k->type == S_BOOL ? "a boolean" : "a whole number in", k->min, k->max);
                return ZMESH_ECONFIG;
            }
            *(int *) field = (int) number;
            return ZMESH_OK;
        }
        case S_MODE:
            if (!streq (value, "trusted") && !streq (value, "open")) {
                snprintf (err, err_size, "%s: '%s' is neither 'trusted' nor 'open'", k->key, value);
                return ZMESH_ECONFIG;
            }
            break;
        case S_BIND:
        case S_ENDPOINT:
            if (*value && zmesh_endpoint_check (value, k->type == S_BIND)) {
                snprintf (err, err_size, "%s: '%s' is not a tcp endpoint (tcp://HOST:PORT)", k->key,
                          value);
                return ZMESH_ECONFIG;
            }
            break;
        case S_ACTORS:
            if (!s_actors_ok (value, bad, sizeof bad)) {
                snprintf (
                    err, err_size,
                    "%s: unknown actor '%s' (known: gossip health worker balancer beacon control)",
                    k->key, bad);
                return ZMESH_ECONFIG;
            }
            break;
        case S_STR:
            //  Shown to people and sent to peers: no control characters.
            for (const unsigned char *p = (const unsigned char *) value; *p; p++)
                if (*p < 0x20 || *p == 0x7f) {
                    snprintf (err, err_size, "%s: control characters are not allowed", k->key);
                    return ZMESH_ECONFIG;
                }
            break;
    }
    if (strlen (value) >= k->size) {
        snprintf (err, err_size, "%s: value longer than %zu bytes", k->key, k->size - 1);
        return ZMESH_ECONFIG;
    }
    snprintf (field, k->size, "%s", value);
    return ZMESH_OK;
}

zmesh_config_t *
zmesh_config_new (void)
{
    zmesh_config_t *self = (zmesh_config_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char err [256];
    for (size_t i = 0; i < S_KEY_COUNT; i++)
        ZMESH_ASSERT (s_set (self, &s_keys [i], s_keys [i].value, err, sizeof err) == 0);
    return self;
}

void
zmesh_config_destroy (zmesh_config_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

int
zmesh_config_set (
    zmesh_config_t *self, const char *key, const char *value, char *err, size_t err_size)
{
    if (!self || !key || !value) {
        snprintf (err, err_size, "missing key or value");
        return ZMESH_EINVAL;
    }
    if (strncmp (key, "seeds/", 6) == 0)
        return zmesh_config_add_seed (self, value, err, err_size);
    if (strncmp (key, "trust/keys/", 11) == 0)
        return zmesh_config_add_trusted (self, value, err, err_size);
    const s_key_t *k = s_lookup (key);
    if (!k) {
        snprintf (err, err_size, "unknown key '%s' (see docs/config.md)", key);
        return ZMESH_ECONFIG;
    }
    return s_set (self, k, value, err, err_size);
}

int
zmesh_config_add_seed (zmesh_config_t *self, const char *contact, char *err, size_t err_size)
{
    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    if (zmesh_contact_parse (contact, endpoint, key)) {
        snprintf (err, err_size,
                  "seed '%s' is not tcp://HOST:PORT#PUBLICKEY (the key is what"
                  " `zmeshctl keys` prints on that node)",
                  contact);
        return ZMESH_ECONFIG;
    }
    if (self->seed_count == ZMESH_CONFIG_SEEDS_MAX) {
        snprintf (err, err_size, "more than %d seeds", ZMESH_CONFIG_SEEDS_MAX);
        return ZMESH_ELIMIT;
    }
    snprintf (self->seeds [self->seed_count++], ZMESH_CONTACT_MAX, "%s", contact);
    return ZMESH_OK;
}

int
zmesh_config_add_trusted (zmesh_config_t *self, const char *key_hex, char *err, size_t err_size)
{
    uint8_t key [ZMESH_KEY_SIZE];
    zmesh_public_t pub;
    if (zmesh_hex_decode (key, ZMESH_KEY_SIZE, key_hex) || zmesh_public_from_sign_key (&pub, key)) {
        snprintf (err, err_size, "trusted key '%s' is not an Ed25519 public key (64 hex digits)",
                  key_hex);
        return ZMESH_ECONFIG;
    }
    if (self->trusted_count == ZMESH_CONFIG_TRUSTED_MAX) {
        snprintf (err, err_size, "more than %d trusted keys", ZMESH_CONFIG_TRUSTED_MAX);
        return ZMESH_ELIMIT;
    }
    snprintf (self->trusted [self->trusted_count++], ZMESH_KEY_HEX_SIZE, "%s", key_hex);
    return ZMESH_OK;
}

char *
zmesh_config_get (const zmesh_config_t *self, const char *key)
{
    const s_key_t *k = s_lookup (key);
    if (!self || !k)
        return NULL;
    const char *field = (const char *) self + k->offset;
    if (k->type == S_INT || k->type == S_BOOL)
        return zsys_sprintf ("%d", *(const int *) field);
    return strdup (field);
}

//  Line of `name` under section `section` (or at the top level, for section "") in a ZPL
//  file, 0 if not found: for messages only.
static int
s_line_of (const char *path, const char *section, const char *name)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    char line [1024];
    int number = 0, found = 0;
    bool in_section = false;
    while (!found && fgets (line, sizeof line, file)) {
        number++;
        char *text = line + strspn (line, " \t");
        size_t word = strcspn (text, " \t=\r\n");
        bool indented = text != line;
        if (!indented && !*section && strlen (name) == word && strncmp (text, name, word) == 0)
            found = number;  //  a top-level name (section "")
        else if (!indented)
            in_section = strlen (section) == word && strncmp (text, section, word) == 0;
        else if (in_section && strlen (name) == word && strncmp (text, name, word) == 0)
            found = number;
    }
    fclose (file);
    return found;
}

int
zmesh_config_load (zmesh_config_t *self, const char *path, char *err, size_t err_size)
{
    if (access (path, R_OK) != 0) {
        snprintf (err, err_size, "cannot read config %s: %s", path, strerror (errno));
        return ZMESH_ECONFIG;
    }
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        snprintf (err, err_size, "%s: not valid ZPL (see the zconfig error above)", path);
        return ZMESH_ECONFIG;
    }
    int rc = ZMESH_OK;
    char inner [512], key [256];
    for (zconfig_t *section = zconfig_child (root); section && rc == 0;
         section = zconfig_next (section)) {
        const char *top_value = zconfig_value (section);
        if (!zconfig_child (section) && !(top_value && *top_value)) {
            snprintf (err, err_size, "%s:%d: section '%s' is empty", path,
                      s_line_of (path, "", zconfig_name (section)), zconfig_name (section));
            rc = ZMESH_ECONFIG;
            break;
        }
        if (top_value && *top_value) {
            //  "key = value" at the top level: the writer forgot the section.
            snprintf (err, err_size,
                      "%s:%d: '%s' is not inside a section (write 'section' on its"
                      " own line, then '    %s = ...' indented under it)",
                      path, s_line_of (path, "", zconfig_name (section)), zconfig_name (section),
                      zconfig_name (section));
            rc = ZMESH_ECONFIG;
            break;
        }
        for (zconfig_t *item = zconfig_child (section); item && rc == 0;
             item = zconfig_next (item)) {
            const char *sname = zconfig_name (section), *iname = zconfig_name (item);
            //  trust/keys is the one section three deep: every child is a key.
            if (streq (sname, "trust") && streq (iname, "keys")) {
                for (zconfig_t *k = zconfig_child (item); k && rc == 0; k = zconfig_next (k))
                    rc = zmesh_config_add_trusted (self, zconfig_value (k), inner, sizeof inner);
                if (rc)
                    snprintf (err, err_size, "%s:%d: %s", path, s_line_of (path, "trust", "keys"),
                              inner);
                continue;
            }
            snprintf (key, sizeof key, "%s/%s", sname, iname);
            const char *value = zconfig_value (item) ? zconfig_value (item) : "";
            rc = zmesh_config_set (self, key, value, inner, sizeof inner);
            if (rc)
                snprintf (err, err_size, "%s:%d: %s", path, s_line_of (path, sname, iname), inner);
        }
    }
    zconfig_destroy (&root);
    return rc;
}

bool
zmesh_config_has_actor (const zmesh_config_t *self, const char *actor)
{
    char copy [128];
    snprintf (copy, sizeof copy, "%s", self->actors);
    char *save = NULL;
    for (char *word = strtok_r (copy, " ,", &save); word; word = strtok_r (NULL, " ,", &save))
        if (streq (word, actor))
            return true;
    return false;
}

int
zmesh_config_validate (const zmesh_config_t *self, char *err, size_t err_size)
{
    if (!self->data [0]) {
        snprintf (err, err_size, "node/data is not set (zmeshd --data DIR)");
        return ZMESH_ECONFIG;
    }
    if (self->suspicion_min_ms > self->suspicion_max_ms) {
        snprintf (err, err_size,
                  "gossip/suspicion_min_ms (%d) must not exceed gossip/suspicion_max_ms (%d)",
                  self->suspicion_min_ms, self->suspicion_max_ms);
        return ZMESH_ECONFIG;
    }
    if (self->probe_timeout_ms >= self->probe_interval_ms) {
        snprintf (err, err_size,
                  "gossip/probe_timeout_ms (%d) must be less than gossip/probe_interval_ms (%d),"
                  " or a probe could not be retried indirectly within its interval",
                  self->probe_timeout_ms, self->probe_interval_ms);
        return ZMESH_ECONFIG;
    }
    if (self->restart_backoff_ms > self->restart_backoff_max_ms) {
        snprintf (
            err, err_size,
            "supervisor/restart_backoff_ms must not exceed supervisor/restart_backoff_max_ms");
        return ZMESH_ECONFIG;
    }
    if (!zmesh_config_has_actor (self, "gossip")) {
        snprintf (err, err_size, "node/actors: '%s' lacks gossip, which every node needs",
                  self->actors);
        return ZMESH_ECONFIG;
    }
    zmesh_place_strategy_t strategy;
    if (zmesh_place_strategy_parse (self->balancer_strategy, &strategy)) {
        snprintf (err, err_size, "balancer/strategy: '%.40s' is not score, auction, hash or local",
                  self->balancer_strategy);
        return ZMESH_ECONFIG;
    }
    if (self->balancer_lease_timeout_ms <= self->worker_lease_interval_ms) {
        snprintf (err, err_size,
                  "balancer/lease_timeout_ms (%d) must exceed worker/lease_interval_ms (%d)",
                  self->balancer_lease_timeout_ms, self->worker_lease_interval_ms);
        return ZMESH_ECONFIG;
    }
    if (self->balancer_retry_base_ms > self->balancer_retry_max_ms) {
        snprintf (err, err_size,
                  "balancer/retry_base_ms (%d) must not exceed balancer/retry_max_ms (%d)",
                  self->balancer_retry_base_ms, self->balancer_retry_max_ms);
        return ZMESH_ECONFIG;
    }
    //  A unix socket path holds at most 107 bytes: DATA/control.sock must fit.
    if (zmesh_config_has_actor (self, "control")
        && strlen (self->data) + strlen ("/control.sock") >= ZMESH_CONTROL_PATH_MAX) {
        snprintf (err, err_size,
                  "node/data: '%.200s' is too long for the control socket (at most %zu bytes)",
                  self->data, ZMESH_CONTROL_PATH_MAX - 1 - strlen ("/control.sock"));
        return ZMESH_ECONFIG;
    }
    return ZMESH_OK;
}

void
zmesh_config_print_reference (void *stream)
{
    FILE *file = (FILE *) stream;
    fprintf (file, "| key | default | unit | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < S_KEY_COUNT; i++) {
        const s_key_t *k = &s_keys [i];
        if (k->type == S_INT || k->type == S_BOOL)
            fprintf (file, "| `%s` | %s (%ld..%ld) | %s | %s |\n", k->key, k->value, k->min, k->max,
                     k->unit, k->doc);
        else
            fprintf (file, "| `%s` | %s%s%s | %s | %s |\n", k->key, *k->value ? "`" : "",
                     *k->value ? k->value : "(none)", *k->value ? "`" : "", k->unit, k->doc);
    }
    fprintf (file,
             "| `seeds/NAME` | | contact | A node to join: `tcp://HOST:PORT#PUBLICKEY`"
             " (up to %d) |\n",
             ZMESH_CONFIG_SEEDS_MAX);
    fprintf (file,
             "| `trust/keys/NAME` | | key | A public key admitted in trusted mode, 64 hex"
             " digits (up to %d) |\n",
             ZMESH_CONFIG_TRUSTED_MAX);
}
