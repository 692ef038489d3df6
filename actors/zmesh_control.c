/*  zmesh_control.c: the control actor, which serves zmeshctl on ipc://DATA/control.sock.

    A ROUTER socket bound to a unix socket file in the data directory; the file is mode 0600
    and the data directory 0700, so filesystem permissions decide who may drive the node
    (docs/architecture.md). A request is one multipart message from a DEALER:

        [command] [arg]...                    strings, at most S_FRAMES_MAX frames
        ["submit"] [options] [payload]        options: a msgpack map (S_OPTIONS_MAX bytes);
                                              payload: 0..ZMESH_TASK_PAYLOAD_MAX bytes
    and the answer is always exactly two frames:
        ["ok"]    [payload]                   payload: one msgpack object
        ["error"] [message]                   message: one sentence for a person

    Work. submit, tasks and metrics talk to the node's balancer (zmesh_balancer.h) through a
    DEALER of this actor, made at the first need, polled with the ROUTER. They are answered
    asynchronously, so the actor never waits on the balancer: a submit when its task's one
    result comes (the table `submits` maps the task id to the requester's routing id; a result
    whose requester went away is dropped by the ROUTER, and freed like every other), tasks and
    metrics when the balancer's LIST answer comes, or after S_LIST_WAIT_MS without one.

    The actor reads the node's shared state (zmesh_node_ctx.h) and copies out under its lock;
    what must change another actor's state (join, trust, fault) goes to the supervisor as a
    "ROUTE" message on the pipe (zmesh_actors.h). A request can never crash the node: every
    frame is checked for count, size and content before a command sees it, and anything off is
    an "error" reply, counted in zmesh_control_errors_total.
*/
#include "zmesh_actors.h"
#include "zmesh_balancer.h"
#include "zmesh_gossip_state.h"
#include "zmesh_node_ctx.h"
#include "zmesh_mpack.h"
#include "zmesh_topology.h"
#include "zmesh_work.h"
#include <errno.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef ZMESH_VERSION
#define ZMESH_VERSION ZMESH_API_VERSION
#endif

#define S_FRAMES_MAX     8                  //  frames of one request: command + arguments
#define S_ARG_MAX        ZMESH_CONTACT_MAX  //  bytes of one argument, NUL included
#define S_SOCKET_NAME    "control.sock"     //  in the data directory
#define S_ERROR_MAX      512                //  bytes of an error message
#define S_WATCHERS_MAX   16                 //  zmeshctl watch sessions at once
#define S_WATCH_LEASE_MS 10000              //  a watcher that does not renew is dropped
#define S_WATCH_TICK_MS  2000               //  "tick" to watchers, so they notice a dead node
#define S_ROUTING_ID_MAX 256                //  bytes of a ROUTER routing id

//  libzmq drops a peer that sends a larger frame: a submit's payload, and room to spare.
#define S_MSG_BYTES_MAX (ZMESH_TASK_PAYLOAD_MAX + 65536)
#define S_OPTIONS_MAX   4096    //  bytes of a submit's options (a msgpack map)
#define S_SUBMITS_MAX   100000  //  submits waiting for their result at once
#define S_WAITERS_MAX   64      //  tasks / metrics requests waiting for the balancer at once
#define S_LIST_WAIT_MS  2000    //  how long they wait for its answer
#define S_WORK_CHECK_MS 1000    //  while submits wait, how often the balancer is checked on
#define S_RECV_BATCH    256     //  messages read from one socket per wake-up
#define S_ROUTER_HWM    (S_SUBMITS_MAX + 1000)  //  answers queued to one zmeshctl at most
#define S_DEFERRED      1                       //  a command's return: answered later

//  Bytes of a unix socket path, NUL included (108 on Linux).
#define S_PATH_MAX sizeof (((struct sockaddr_un *) 0)->sun_path)

typedef struct {
    zsock_t *pipe;           //  to the supervisor
    zmesh_node_ctx_t *ctx;   //  the node's shared state, borrowed
    zsock_t *router;         //  serves zmeshctl
    zpoller_t *poller;       //  pipe + router
    char path [S_PATH_MAX];  //  the socket file
    bool terminated;         //  $TERM or FAULT received
    char fault_actor [16];   //  fault to inject once the reply is sent ("" = none)
    zframe_t *peer;          //  routing id of the request being served (borrowed)
    struct {
        uint8_t id [S_ROUTING_ID_MAX];  //  its routing id
        size_t id_size;
        int64_t expires_ms;       //  zclock_mono time its lease ends
    } watchers [S_WATCHERS_MAX];  //  zmeshctl watch sessions
    size_t watcher_count;
    int64_t next_tick_ms;  //  next "tick" to watchers
    //  Work: the DEALER to the balancer, and who waits for its answers.
    zsock_t *work;               //  NULL until the first submit, tasks or metrics
    uint32_t balancer_restarts;  //  the balancer's restart count when `work` was made
    int64_t next_work_check_ms;  //  next look at the balancer's status while work waits
    zhashx_t *submits;           //  task id (hex) -> s_submit_t: requests waiting for a result
    struct {
        uint8_t id [S_ROUTING_ID_MAX];  //  the requester's routing id
        size_t id_size;
        char command;           //  't' tasks, 'm' metrics
        int64_t expires_ms;     //  zclock_mono time it is answered without the balancer
    } waiters [S_WAITERS_MAX];  //  LIST requests sent, oldest first (the balancer is FIFO)
    size_t waiter_count;
} self_t;

//  A submit waiting for its result.
typedef struct {
    uint8_t peer [S_ROUTING_ID_MAX];  //  the requester's routing id
    size_t peer_size;
    uint64_t seq;  //  the requester's number for it (map), echoed in the answer
    bool has_seq;
    char handler [ZMESH_TASK_HANDLER_MAX];
} s_submit_t;

//  One reply being built: a msgpack payload, or an error message.
typedef struct {
    msgpack_sbuffer buffer;    //  the payload
    msgpack_packer pk;         //  writes into buffer through s_reply_write
    bool out_of_memory;        //  a write did not fit; the payload is unusable
    char error [S_ERROR_MAX];  //  set when the command failed
} s_reply_t;

//  0 with a payload, -1 with an error, or S_DEFERRED: the answer is sent later.
typedef int (s_command_fn) (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply);

//  ---------------------------------------------------------------------------------------------
//  Reply building

static int
s_reply_write (void *data, const char *buf, size_t len)
{
    s_reply_t *reply = (s_reply_t *) data;
    if (reply->out_of_memory)
        return -1;
    if (msgpack_sbuffer_write (&reply->buffer, buf, len)) {
        reply->out_of_memory = true;
        return -1;
    }
    return 0;
}

static void
s_reply_init (s_reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    msgpack_sbuffer_init (&reply->buffer);
    msgpack_packer_init (&reply->pk, reply, s_reply_write);
}

//  Record why a command failed; returns -1 for `return s_fail (...)`.
static int
s_fail (s_reply_t *reply, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (reply->error, sizeof reply->error, format, args);
    va_end (args);
    return -1;
}

static void
s_pack_kv_str (msgpack_packer *pk, const char *key, const char *value)
{
    zmesh_mp_pack_cstr (pk, key);
    zmesh_mp_pack_cstr (pk, value);
}

static void
s_pack_kv_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    zmesh_mp_pack_cstr (pk, key);
    msgpack_pack_uint64 (pk, value);
}

//  Copy of text fit to quote in an error message: printable ASCII, the rest as '?'.
static const char *
s_printable (char *dest, size_t dest_size, const char *text)
{
    size_t i = 0;
    for (; text [i] && i + 1 < dest_size; i++)
        dest [i] = text [i] >= 0x20 && text [i] < 0x7f ? text [i] : '?';
    dest [i] = 0;
    return dest;
}

//  ---------------------------------------------------------------------------------------------
//  Reading the node's state

//  The members snapshot, self first. Before gossip has published one, a table of this node
//  alone, so that status and members always show at least self. NULL if out of memory.
static zmesh_member_t *
s_members (self_t *self, size_t *count)
{
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, count);
    if (members)
        return members;
    members = calloc (1, sizeof *members);
    if (!members)
        return NULL;
    const zmesh_node_ctx_t *ctx = self->ctx;
    snprintf (members->id, sizeof members->id, "%s", ctx->identity.id_hex);
    snprintf (members->name, sizeof members->name, "%s", ctx->config.name);
    zmesh_ctx_endpoint (self->ctx, members->endpoint);
    snprintf (members->public_key, sizeof members->public_key, "%s", ctx->identity.key_hex);
    snprintf (members->state, sizeof members->state, "alive");
    members->self = true;
    members->generation = ctx->generation;
    *count = 1;
    return members;
}

static size_t
s_count_state (const zmesh_member_t *members, size_t count, const char *state)
{
    size_t matches = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp (members [i].state, state) == 0)
            matches++;
    return matches;
}

static uint64_t
s_uptime_s (const zmesh_node_ctx_t *ctx)
{
    int64_t elapsed_ms = zclock_mono () - ctx->started_mono_ms;
    return elapsed_ms > 0 ? (uint64_t) elapsed_ms / 1000 : 0;
}

//  "ENDPOINT#KEYHEX" of this node, "" before it is bound.
static void
s_contact (self_t *self, char contact [ZMESH_CONTACT_MAX])
{
    char endpoint [ZMESH_ENDPOINT_MAX];
    zmesh_ctx_endpoint (self->ctx, endpoint);
    contact [0] = 0;
    if (endpoint [0])
        zmesh_contact_format (contact, endpoint, self->ctx->identity.pub.sign_public);
}

//  ---------------------------------------------------------------------------------------------
//  Commands

static void
s_pack_kv_double (msgpack_packer *pk, const char *key, double value)
{
    zmesh_mp_pack_cstr (pk, key);
    msgpack_pack_double (pk, value);
}

//  What the health actor measured: a map, for status and the self row of members.
static void
s_pack_resources (msgpack_packer *pk, const zmesh_profile_t *p, uint64_t age_ms)
{
    msgpack_pack_map (pk, 15);
    s_pack_kv_uint (pk, "cpu_cores", p->cpu_cores);
    s_pack_kv_str (pk, "cpu_model", p->cpu_model);
    s_pack_kv_uint (pk, "cpu_quota_millicores", p->cpu_quota_millicores);
    s_pack_kv_double (pk, "load_avg1", p->load_avg1_milli / 1000.0);
    s_pack_kv_double (pk, "load_avg5", p->load_avg5_milli / 1000.0);
    s_pack_kv_double (pk, "load_avg15", p->load_avg15_milli / 1000.0);
    zmesh_mp_pack_cstr (pk, "cpu_util_percent");
    if (p->cpu_util_valid)
        msgpack_pack_double (pk, p->cpu_util_bp / 100.0);
    else
        msgpack_pack_nil (pk);
    s_pack_kv_uint (pk, "mem_total_bytes", p->mem_total_bytes);
    s_pack_kv_uint (pk, "mem_available_bytes", p->mem_available_bytes);
    s_pack_kv_uint (pk, "mem_limit_bytes", p->mem_limit_bytes);
    zmesh_mp_pack_cstr (pk, "disks");
    msgpack_pack_array (pk, p->disk_count);
    for (uint32_t i = 0; i < p->disk_count; i++) {
        msgpack_pack_map (pk, 4);
        s_pack_kv_str (pk, "mount", p->disks [i].mount_path);
        s_pack_kv_str (pk, "fstype", p->disks [i].fstype);
        s_pack_kv_uint (pk, "total_bytes", p->disks [i].total_bytes);
        s_pack_kv_uint (pk, "free_bytes", p->disks [i].free_bytes);
    }
    zmesh_mp_pack_cstr (pk, "nets");
    msgpack_pack_array (pk, p->net_count);
    for (uint32_t i = 0; i < p->net_count; i++) {
        msgpack_pack_map (pk, 4);
        s_pack_kv_str (pk, "name", p->nets [i].name);
        s_pack_kv_str (pk, "operstate", p->nets [i].operstate);
        s_pack_kv_uint (pk, "speed_mbps", p->nets [i].speed_mbps);
        s_pack_kv_uint (pk, "mtu_bytes", p->nets [i].mtu_bytes);
    }
    zmesh_mp_pack_cstr (pk, "gpus");
    msgpack_pack_array (pk, p->gpu_count);
    for (uint32_t i = 0; i < p->gpu_count; i++) {
        msgpack_pack_map (pk, 4);
        s_pack_kv_str (pk, "vendor", p->gpus [i].vendor);
        s_pack_kv_str (pk, "model", p->gpus [i].model);
        s_pack_kv_str (pk, "bus", p->gpus [i].bus);
        s_pack_kv_uint (pk, "vram_bytes", p->gpus [i].vram_bytes);
    }
    zmesh_mp_pack_cstr (pk, "bench");
    if (p->bench.valid) {
        msgpack_pack_map (pk, 3);
        s_pack_kv_uint (pk, "hash_bytes_per_s", p->bench.hash_bytes_per_s);
        s_pack_kv_uint (pk, "int_ops_per_s", p->bench.int_ops_per_s);
        s_pack_kv_uint (pk, "mem_copy_bytes_per_s", p->bench.mem_copy_bytes_per_s);
    }
    else
        msgpack_pack_nil (pk);
    s_pack_kv_uint (pk, "age_ms", age_ms);
}

//  This node's resources, if the health actor has measured them: true and *profile filled.
static bool
s_resources (self_t *self, zmesh_profile_t *profile, uint64_t *age_ms)
{
    uint64_t at_ms;
    if (!zmesh_ctx_profile (self->ctx, profile, &at_ms))
        return false;
    uint64_t now = (uint64_t) zclock_mono ();
    *age_ms = now > at_ms ? now - at_ms : 0;
    return true;
}

static int
s_cmd_status (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    zmesh_node_ctx_t *ctx = self->ctx;
    size_t member_count;
    zmesh_member_t *members = s_members (self, &member_count);
    if (!members)
        return s_fail (reply, "out of memory");
    zmesh_actor_status_t actors [ZMESH_ACTORS_MAX];
    size_t actor_count = zmesh_ctx_actors (ctx, actors, ZMESH_ACTORS_MAX);
    char endpoint [ZMESH_ENDPOINT_MAX];
    zmesh_ctx_endpoint (ctx, endpoint);
    char contact [ZMESH_CONTACT_MAX];
    s_contact (self, contact);

    zmesh_profile_t profile;
    uint64_t age_ms = 0;
    bool measured = s_resources (self, &profile, &age_ms);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, measured ? 14 : 13);
    s_pack_kv_str (pk, "id", ctx->identity.id_hex);
    s_pack_kv_str (pk, "name", ctx->config.name);
    s_pack_kv_str (pk, "version", ZMESH_VERSION);
    s_pack_kv_str (pk, "endpoint", endpoint);
    s_pack_kv_str (pk, "contact", contact);
    s_pack_kv_str (pk, "public_key", ctx->identity.key_hex);
    s_pack_kv_uint (pk, "uptime_s", s_uptime_s (ctx));
    s_pack_kv_uint (pk, "generation", ctx->generation);
    s_pack_kv_str (pk, "trust_mode", ctx->config.trust_mode);
    s_pack_kv_str (pk, "data", ctx->config.data);
    s_pack_kv_uint (pk, "pid", (uint64_t) getpid ());
    zmesh_mp_pack_cstr (pk, "actors");
    msgpack_pack_array (pk, actor_count);
    for (size_t i = 0; i < actor_count; i++) {
        msgpack_pack_map (pk, 3);
        s_pack_kv_str (pk, "name", actors [i].name);
        s_pack_kv_str (pk, "state", actors [i].state);
        s_pack_kv_uint (pk, "restarts", actors [i].restarts);
    }
    s_pack_kv_uint (pk, "members_alive", s_count_state (members, member_count, "alive"));
    if (measured) {
        zmesh_mp_pack_cstr (pk, "resources");
        s_pack_resources (pk, &profile, age_ms);
    }
    free (members);
    return 0;
}

static int
s_cmd_members (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    size_t count;
    zmesh_member_t *members = s_members (self, &count);
    if (!members)
        return s_fail (reply, "out of memory");
    //  Resources: this node's from the health actor, the others' from the gossip state.
    zmesh_profile_t profile;
    uint64_t age_ms = 0;
    bool measured = s_resources (self, &profile, &age_ms);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_array (pk, count);
    for (size_t i = 0; i < count; i++) {
        const zmesh_member_t *member = &members [i];
        zmesh_profile_t *shown = NULL, theirs;
        if (member->self && measured)
            shown = &profile;
        else if (!member->self && zmesh_ctx_member_profile (self->ctx, member->id, &theirs))
            shown = &theirs;
        msgpack_pack_map (pk, shown ? 11 : 10);
        s_pack_kv_str (pk, "id", member->id);
        s_pack_kv_str (pk, "name", member->name);
        s_pack_kv_str (pk, "endpoint", member->endpoint);
        s_pack_kv_str (pk, "public_key", member->public_key);
        s_pack_kv_str (pk, "state", member->state);
        zmesh_mp_pack_cstr (pk, "self");
        if (member->self)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
        s_pack_kv_uint (pk, "generation", member->generation);
        s_pack_kv_uint (pk, "incarnation", member->incarnation);
        s_pack_kv_str (pk, "view", member->view);
        s_pack_kv_uint (pk, "silent_ms", member->silent_ms);
        if (shown) {
            zmesh_mp_pack_cstr (pk, "resources");
            s_pack_resources (pk, shown, shown == &profile ? age_ms : 0);
        }
    }
    free (members);
    return 0;
}

static int
s_cmd_keys (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    zmesh_node_ctx_t *ctx = self->ctx;
    char contact [ZMESH_CONTACT_MAX];
    s_contact (self, contact);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, 5);
    s_pack_kv_str (pk, "id", ctx->identity.id_hex);
    s_pack_kv_str (pk, "public_key", ctx->identity.key_hex);
    s_pack_kv_str (pk, "contact", contact);
    s_pack_kv_str (pk, "trust_mode", ctx->config.trust_mode);
    s_pack_kv_uint (pk, "trusted_count", zmesh_trust_count (ctx->trust));
    return 0;
}

static int
s_cmd_join (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    char shown [64];
    if (zmesh_contact_parse (args [0], endpoint, key))
        return s_fail (reply,
                       "not a contact: '%s' (expected tcp://HOST:PORT#KEY, KEY the node's "
                       "public key in 64 hex digits, as 'zmeshctl keys' prints it)",
                       s_printable (shown, sizeof shown, args [0]));
    if (memcmp (key, self->ctx->identity.pub.sign_public, ZMESH_KEY_SIZE) == 0)
        return s_fail (reply, "that is this node's own contact");
    char contact [ZMESH_CONTACT_MAX];
    zmesh_contact_format (contact, endpoint, key);
    zstr_sendx (self->pipe, "ROUTE", "gossip", "JOIN", contact, NULL);
    msgpack_pack_map (&reply->pk, 1);
    s_pack_kv_str (&reply->pk, "joining", contact);
    return 0;
}

static int
s_cmd_trust (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    char shown [64];
    if (strcmp (args [0], "add") != 0)
        return s_fail (reply, "unknown trust subcommand '%s' (expected: trust add KEY)",
                       s_printable (shown, sizeof shown, args [0]));
    uint8_t key [ZMESH_KEY_SIZE];
    if (zmesh_hex_decode (key, ZMESH_KEY_SIZE, args [1]))
        return s_fail (reply, "not a public key: '%s' (expected 64 hex digits)",
                       s_printable (shown, sizeof shown, args [1]));
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, key))
        return s_fail (reply, "not a valid Ed25519 public key: %s", args [1]);
    int rc = zmesh_trust_add (self->ctx->trust, key, true);
    if (rc == ZMESH_ELIMIT)
        return s_fail (reply, "cannot trust more keys: the limit is %d", ZMESH_TRUST_KEYS_MAX);
    if (rc)
        return s_fail (reply, "cannot trust the key: %s (writing %s/trusted/)", zmesh_strerror (rc),
                       self->ctx->config.data);
    zstr_sendx (self->pipe, "ROUTE", "gossip", "TRUST", NULL);

    char key_hex [ZMESH_KEY_HEX_SIZE];
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_hex_encode (key_hex, key, ZMESH_KEY_SIZE);
    zmesh_id_to_hex (&pub.id, id_hex);
    msgpack_pack_map (&reply->pk, 2);
    s_pack_kv_str (&reply->pk, "trusted", key_hex);
    s_pack_kv_str (&reply->pk, "id", id_hex);
    return 0;
}

//  One sample of the metrics answer, {name, labels, help, type, value}, up to its value: the
//  caller packs that.
static void
s_pack_metric_head (
    msgpack_packer *pk, const char *name, const char *labels, const char *help, const char *type)
{
    msgpack_pack_map (pk, 5);
    s_pack_kv_str (pk, "name", name);
    s_pack_kv_str (pk, "labels", labels);
    s_pack_kv_str (pk, "help", help);
    s_pack_kv_str (pk, "type", type);
    zmesh_mp_pack_cstr (pk, "value");
}

#define S_WORK_GAUGES 16  //  samples s_metrics_pack adds from the balancer's list

//  A scaling decision as three samples of one gauge, labelled by decision: 1 for the one in
//  force, 0 for the others.
static void
s_pack_decision (msgpack_packer *pk,
                 const char *name,
                 const char *help,
                 const zmesh_scale_result_t *scale)
{
    static const zmesh_scale_decision_t decisions [] = {ZMESH_SCALE_HOLD, ZMESH_SCALE_UP,
                                                        ZMESH_SCALE_DOWN};
    for (size_t i = 0; i < sizeof decisions / sizeof decisions [0]; i++) {
        char labels [48];
        snprintf (labels, sizeof labels, "decision=\"%s\"",
                  zmesh_scale_decision_name (decisions [i]));
        s_pack_metric_head (pk, name, labels, help, "gauge");
        msgpack_pack_uint32 (pk, scale->decision == decisions [i]);
    }
}

//  Counters of the table as they are, then gauges computed now: members and uptime, and the
//  work plane's from the balancer's list (NULL: the node runs no balancer, or it did not
//  answer in time).
static int
s_metrics_pack (self_t *self, s_reply_t *reply, const zmesh_work_list_t *list)
{
    static const char *states [] = {"alive", "suspect", "dead", "left"};
    const size_t state_count = sizeof states / sizeof *states;
    size_t member_count;
    zmesh_member_t *members = s_members (self, &member_count);
    if (!members)
        return s_fail (reply, "out of memory");

    msgpack_packer *pk = &reply->pk;
    msgpack_pack_array (pk, ZMESH_M_COUNT + state_count + 1 + (list ? S_WORK_GAUGES : 0));
    for (int metric = 0; metric < ZMESH_M_COUNT; metric++) {
        const zmesh_metric_info_t *info = zmesh_metric_info ((zmesh_metric_t) metric);
        s_pack_metric_head (pk, info->name, info->labels, info->help, "counter");
        msgpack_pack_uint64 (pk, zmesh_metrics_get (&self->ctx->metrics, (zmesh_metric_t) metric));
    }
    for (size_t i = 0; i < state_count; i++) {
        char labels [32];
        snprintf (labels, sizeof labels, "state=\"%s\"", states [i]);
        s_pack_metric_head (pk, "zmesh_members", labels, "Members known to this node, by state",
                            "gauge");
        msgpack_pack_uint64 (pk, s_count_state (members, member_count, states [i]));
    }
    s_pack_metric_head (pk, "zmesh_uptime_seconds", "", "Seconds since the node started", "gauge");
    msgpack_pack_uint64 (pk, s_uptime_s (self->ctx));
    free (members);
    if (!list)
        return 0;
    s_pack_metric_head (pk, "zmesh_nodes_active", "",
                        "Nodes alive that offer work, as this node's balancer sees them", "gauge");
    msgpack_pack_uint32 (pk, list->nodes_active);
    s_pack_metric_head (pk, "zmesh_circuit_breakers_open", "",
                        "Peers whose circuit breaker is open or half-open", "gauge");
    msgpack_pack_uint32 (pk, list->breakers_open);
    s_pack_metric_head (pk, "zmesh_queue_depth", "",
                        "Tasks waiting: this node's tasks not placed yet, plus its worker's queue",
                        "gauge");
    msgpack_pack_uint64 (pk, (uint64_t) list->stats.pending + zmesh_work_own_queued (self->ctx));
    s_pack_metric_head (pk, "zmesh_tasks_in_flight", "",
                        "Attempts of this node's tasks open on workers", "gauge");
    msgpack_pack_uint32 (pk, list->stats.in_flight);
    s_pack_metric_head (pk, "zmesh_tasks_owned", "",
                        "Tasks this node owns: submitted here, no result yet", "gauge");
    msgpack_pack_uint32 (pk, list->stats.owned);
    s_pack_metric_head (pk, "zmesh_avg_latency_ms", "",
                        "Moving average of this node's task latency, submit to result", "gauge");
    msgpack_pack_double (pk, list->latency_ms);
    s_pack_decision (pk, "zmesh_scaling_decision",
                     "The balancer's last scaling decision: 1 for the one in force", &list->scale);
    s_pack_metric_head (pk, "zmesh_scaling_d", "", "The figure D of the last scaling decision",
                        "gauge");
    msgpack_pack_double (pk, list->scale.d);
    s_pack_decision (pk, "zmesh_scaling_mesh_decision",
                     "The mesh-wide scaling decision, over every node's published figures: 1 "
                     "for the one in force",
                     &list->mesh_scale);
    s_pack_metric_head (pk, "zmesh_scaling_mesh_d", "",
                        "The figure D of the mesh-wide decision (mean queue depth per node, mean "
                        "latency)",
                        "gauge");
    msgpack_pack_double (pk, list->mesh_scale.d);
    s_pack_metric_head (pk, "zmesh_scaling_mesh_nodes", "",
                        "Nodes whose figures the mesh-wide decision was computed from", "gauge");
    msgpack_pack_uint32 (pk, list->mesh_nodes);
    s_pack_metric_head (pk, "zmesh_scaling_mesh_decider", "",
                        "1 if this node acts on the mesh-wide decision (the lowest id among them)",
                        "gauge");
    msgpack_pack_uint32 (pk, list->mesh_decider);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Work: submit, tasks and the metrics' gauges, through the balancer

//  Send an answer to a requester: ["ok"][payload] if rc is 0, else ["error"][message].
static void
s_answer (self_t *self, const void *peer, size_t peer_size, int rc, s_reply_t *reply)
{
    if (rc == 0 && reply->out_of_memory)
        rc = s_fail (reply, "out of memory");
    if (rc)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_CONTROL_ERRORS, 1);
    zmsg_t *answer = zmsg_new ();
    zmsg_addmem (answer, peer, peer_size);
    if (rc) {
        zmsg_addstr (answer, "error");
        zmsg_addstr (answer, reply->error);
    }
    else {
        zmsg_addstr (answer, "ok");
        zmsg_addmem (answer, reply->buffer.data, reply->buffer.size);
    }
    zmsg_send (&answer, self->router);  //  a ROUTER drops it if the client went away
}

static void
s_submit_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  The balancer's row of the actor table; false if it has none yet.
static bool
s_balancer_status (self_t *self, zmesh_actor_status_t *status)
{
    zmesh_actor_status_t actors [ZMESH_ACTORS_MAX];
    size_t count = zmesh_ctx_actors (self->ctx, actors, ZMESH_ACTORS_MAX);
    for (size_t i = 0; i < count; i++)
        if (streq (actors [i].name, "balancer")) {
            *status = actors [i];
            return true;
        }
    return false;
}

//  A task's result as zmeshctl gets it: a map; output as bin.
static void
s_pack_result (msgpack_packer *pk, const s_submit_t *entry, const zmesh_task_result_t *result)
{
    msgpack_pack_map (pk, entry->has_seq ? 14 : 13);
    if (entry->has_seq)
        s_pack_kv_uint (pk, "seq", entry->seq);
    s_pack_kv_str (pk, "task_id", result->task_id);
    s_pack_kv_str (pk, "task_type", result->task_type);
    s_pack_kv_str (pk, "selected_node", result->selected_node);
    s_pack_kv_str (pk, "cost_optimal_node", result->cost_optimal_node);
    s_pack_kv_str (pk, "dispatched_to", result->dispatched_to);
    s_pack_kv_str (pk, "circuit_state", result->circuit_state);
    zmesh_mp_pack_cstr (pk, "success");
    result->success ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    s_pack_kv_str (pk, "status", result->status);
    s_pack_kv_str (pk, "error", result->error);
    s_pack_kv_uint (pk, "latency_ms", result->latency_ms);
    s_pack_kv_uint (pk, "attempts", result->attempts);
    s_pack_kv_uint (pk, "disagreements", result->disagreements);
    zmesh_mp_pack_cstr (pk, "output");
    msgpack_pack_bin (pk, result->output_size);
    msgpack_pack_bin_body (pk, result->output, result->output_size);
}

//  Answer the submit of task `id` with this result, and forget it.
static void
s_answer_result (self_t *self, const char *id, const zmesh_task_result_t *result)
{
    s_submit_t *entry = (s_submit_t *) zhashx_lookup (self->submits, id);
    if (!entry)
        return;  //  only this actor's submits come back on its socket: cannot happen
    s_reply_t reply;
    s_reply_init (&reply);
    s_pack_result (&reply.pk, entry, result);
    s_answer (self, entry->peer, entry->peer_size, 0, &reply);
    msgpack_sbuffer_destroy (&reply.buffer);
    zhashx_delete (self->submits, id);
}

//  Task lists are shown oldest first.
static int
s_task_age_compare (const void *x, const void *y)
{
    const zmesh_owner_task_info_t *a = (const zmesh_owner_task_info_t *) x;
    const zmesh_owner_task_info_t *b = (const zmesh_owner_task_info_t *) y;
    return a->age_ms != b->age_ms ? (a->age_ms > b->age_ms ? -1 : 1)
                                  : memcmp (a->id.bytes, b->id.bytes, ZMESH_ID_SIZE);
}

//  The answer to tasks: the figures of the owner, and its tasks (up to ZMESH_WORK_LIST_MAX).
static int
s_tasks_pack (self_t *self, s_reply_t *reply, zmesh_work_list_t *list)
{
    size_t member_count = 0;
    zmesh_member_t *members = s_members (self, &member_count);
    qsort (list->tasks, list->count, sizeof *list->tasks, s_task_age_compare);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, 4);
    s_pack_kv_uint (pk, "owned", list->stats.owned);
    s_pack_kv_uint (pk, "pending", list->stats.pending);
    s_pack_kv_uint (pk, "in_flight", list->stats.in_flight);
    zmesh_mp_pack_cstr (pk, "tasks");
    msgpack_pack_array (pk, list->count);
    for (uint32_t i = 0; i < list->count; i++) {
        const zmesh_owner_task_info_t *task = &list->tasks [i];
        char id [ZMESH_ID_HEX_SIZE], node [ZMESH_ID_HEX_SIZE] = "";
        const char *name = "";
        zmesh_id_to_hex (&task->id, id);
        if (!task->pending) {
            zmesh_id_to_hex (&task->node, node);
            for (size_t m = 0; members && m < member_count; m++)
                if (streq (members [m].id, node))
                    name = members [m].name;
        }
        msgpack_pack_map (pk, 8);
        s_pack_kv_str (pk, "id", id);
        s_pack_kv_str (pk, "handler", task->handler);
        s_pack_kv_uint (pk, "priority", task->priority);
        s_pack_kv_uint (pk, "attempts", task->attempts);
        s_pack_kv_uint (pk, "age_ms", task->age_ms);
        zmesh_mp_pack_cstr (pk, "pending");
        task->pending ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
        s_pack_kv_str (pk, "node", node);
        s_pack_kv_str (pk, "node_name", name);
    }
    free (members);
    return 0;
}

//  Answer the oldest tasks or metrics request waiting for the balancer: with its list, or
//  without (list NULL: it did not answer within S_LIST_WAIT_MS). Any LIST answer will do, as
//  each is the state of the moment: the answer to a request that timed out serves the next.
static void
s_waiter_answer (self_t *self, zmesh_work_list_t *list)
{
    if (!self->waiter_count)
        return;  //  late: its requester was answered without it
    uint8_t id [S_ROUTING_ID_MAX];
    size_t id_size = self->waiters [0].id_size;
    char command = self->waiters [0].command;
    memcpy (id, self->waiters [0].id, id_size);
    self->waiter_count--;
    memmove (&self->waiters [0], &self->waiters [1], self->waiter_count * sizeof self->waiters [0]);
    s_reply_t reply;
    s_reply_init (&reply);
    int rc;
    if (command == 'm')
        rc = s_metrics_pack (self, &reply, list);
    else if (list)
        rc = s_tasks_pack (self, &reply, list);
    else
        rc = s_fail (&reply, "the balancer did not answer within %d ms", S_LIST_WAIT_MS);
    s_answer (self, id, id_size, rc, &reply);
    msgpack_sbuffer_destroy (&reply.buffer);
}

//  Read what the balancer sent: results and lists. Returns how many were read.
static int
s_work_read (self_t *self)
{
    int n = 0;
    for (; self->work && n < S_RECV_BATCH; n++) {
        zmesh_work_reply_t reply;
        int size = zmq_recv (zsock_resolve (self->work), &reply, sizeof reply, ZMQ_DONTWAIT);
        if (size < 0)
            break;
        if (size != (int) sizeof reply)
            continue;  //  the balancer sends nothing else: cannot happen
        if (reply.kind == 'R' && reply.result)
            s_answer_result (self, reply.result->task_id, reply.result);
        else if (reply.kind == 'L' && reply.list)
            s_waiter_answer (self, reply.list);
        zmesh_task_result_destroy (&reply.result);
        free (reply.list);
    }
    return n;
}

//  Drop the DEALER and everything that waits on it, after the balancer died: what it sent
//  before is answered as usual; every other submit with a failed result ("lost": the task may
//  or may not have run), every tasks or metrics request as if the balancer had not answered.
static void
s_work_reset (self_t *self)
{
    if (self->work) {
        while (s_work_read (self) == S_RECV_BATCH)
            ;
        zpoller_remove (self->poller, self->work);
        zsock_destroy (&self->work);
    }
    for (s_submit_t *entry = (s_submit_t *) zhashx_first (self->submits); entry;
         entry = (s_submit_t *) zhashx_next (self->submits)) {
        zmesh_task_result_t lost;
        memset (&lost, 0, sizeof lost);
        snprintf (lost.task_id, sizeof lost.task_id, "%s",
                  (const char *) zhashx_cursor (self->submits));
        snprintf (lost.task_type, sizeof lost.task_type, "%s", entry->handler);
        snprintf (lost.status, sizeof lost.status, "lost");
        snprintf (lost.error, sizeof lost.error,
                  "the balancer of this node restarted: the task's result is lost (it may or "
                  "may not have run)");
        s_reply_t reply;
        s_reply_init (&reply);
        s_pack_result (&reply.pk, entry, &lost);
        s_answer (self, entry->peer, entry->peer_size, 0, &reply);
        msgpack_sbuffer_destroy (&reply.buffer);
    }
    zhashx_purge (self->submits);
    while (self->waiter_count)
        s_waiter_answer (self, NULL);
}

//  Work to check on at each wake-up: tasks and metrics requests that waited too long, and
//  (every S_WORK_CHECK_MS) whether the balancer restarted under what waits for it.
static void
s_work_watch (self_t *self)
{
    int64_t now = zclock_mono ();
    while (self->waiter_count && self->waiters [0].expires_ms <= now)
        s_waiter_answer (self, NULL);
    if (!self->work || now < self->next_work_check_ms)
        return;
    self->next_work_check_ms = now + S_WORK_CHECK_MS;
    zmesh_actor_status_t status;
    if (!s_balancer_status (self, &status) || status.restarts != self->balancer_restarts
        || !streq (status.state, "running")) {
        if (zhashx_size (self->submits))
            zsys_warning ("control: the balancer restarted; %zu submits lost",
                          zhashx_size (self->submits));
        s_work_reset (self);
    }
}

//  The DEALER to the balancer, made if need be: 0, or -1 with the reason in reply.
static int
s_work_socket (self_t *self, s_reply_t *reply)
{
    if (!zmesh_config_has_actor (&self->ctx->config, "balancer"))
        return s_fail (reply, "this node runs no balancer (node/actors)");
    zmesh_actor_status_t status;
    if (!s_balancer_status (self, &status) || !streq (status.state, "running"))
        return s_fail (reply, "the balancer of this node is %s; try again in a moment",
                       s_balancer_status (self, &status) ? status.state : "not started");
    if (self->work && status.restarts != self->balancer_restarts)
        s_work_reset (self);
    if (self->work)
        return 0;
    self->work = zsock_new (ZMQ_DEALER);
    if (!self->work)
        return s_fail (reply, "cannot create a socket to the balancer");
    zsock_set_linger (self->work, 0);
    zsock_set_sndhwm (self->work, S_SUBMITS_MAX + S_WAITERS_MAX);
    zsock_set_rcvhwm (self->work, 0);  //  results are never dropped: they hold memory
    if (zsock_connect (self->work, "%s", self->ctx->balancer_endpoint) != 0
        || zpoller_add (self->poller, self->work) != 0) {
        zsock_destroy (&self->work);
        return s_fail (reply, "cannot connect to the balancer at %s", self->ctx->balancer_endpoint);
    }
    self->balancer_restarts = status.restarts;
    self->next_work_check_ms = zclock_mono () + S_WORK_CHECK_MS;
    return 0;
}

//  Ask the balancer for its list, for a tasks ('t') or metrics ('m') request: S_DEFERRED, or
//  -1 with the reason.
static int
s_list_request (self_t *self, char command, s_reply_t *reply)
{
    if (s_work_socket (self, reply))
        return -1;
    size_t size = zframe_size (self->peer);
    if (size > S_ROUTING_ID_MAX)
        return s_fail (reply, "routing id too long");
    if (self->waiter_count == S_WAITERS_MAX)
        return s_fail (reply, "%d requests wait for the balancer already; try again",
                       S_WAITERS_MAX);
    zmesh_work_request_t request = {.kind = 'L', .submit = NULL};
    if (zmq_send (zsock_resolve (self->work), &request, sizeof request, ZMQ_DONTWAIT)
        != (int) sizeof request)
        return s_fail (reply, "the balancer takes no requests now: %s",
                       zmq_strerror (zmq_errno ()));
    memcpy (self->waiters [self->waiter_count].id, zframe_data (self->peer), size);
    self->waiters [self->waiter_count].id_size = size;
    self->waiters [self->waiter_count].command = command;
    self->waiters [self->waiter_count].expires_ms = zclock_mono () + S_LIST_WAIT_MS;
    self->waiter_count++;
    return S_DEFERRED;
}

static int
s_cmd_metrics (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    //  With the balancer's gauges when the node runs one; without, if it cannot be asked.
    if (zmesh_config_has_actor (&self->ctx->config, "balancer")
        && s_list_request (self, 'm', reply) == S_DEFERRED)
        return S_DEFERRED;
    reply->error [0] = 0;
    return s_metrics_pack (self, reply, NULL);
}

static int
s_cmd_tasks (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    return s_list_request (self, 't', reply);
}

//  What a submit's options hold besides the spec's fields.
typedef struct {
    char handler [ZMESH_TASK_HANDLER_MAX];
    char tags [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_TAG_MAX];
    const char *tag_list [ZMESH_TASK_TAGS_MAX];
    char strategy [16];
    uint64_t seq;
    bool has_seq;
} s_submit_options_t;

//  An unsigned option: into the spec (or the seq), if within its range.
static int
s_submit_uint (zmesh_task_spec_t *spec,
               s_submit_options_t *o,
               const char *name,
               uint64_t value,
               s_reply_t *reply)
{
    static const struct {
        const char *name;
        uint64_t max;
    } ranges [] = {{"priority", ZMESH_CRITICAL}, {"cpu_millicores", UINT32_MAX},
                   {"memory_bytes", UINT64_MAX}, {"gpus", UINT32_MAX},
                   {"redundancy", UINT32_MAX},   {"timeout_ms", UINT32_MAX},
                   {"max_retries", 100},         {"seq", UINT64_MAX}};
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++)
        if (streq (name, ranges [i].name) && value > ranges [i].max)
            return s_fail (reply, "submit: %s %" PRIu64 " is out of range (at most %" PRIu64 ")",
                           name, value, ranges [i].max);
    if (streq (name, "priority"))
        spec->priority = (int) value;
    else if (streq (name, "cpu_millicores"))
        spec->cpu_millicores = (uint32_t) value;
    else if (streq (name, "memory_bytes"))
        spec->memory_bytes = value;
    else if (streq (name, "gpus"))
        spec->gpus = (uint32_t) value;
    else if (streq (name, "redundancy"))
        spec->redundancy = (uint32_t) value;
    else if (streq (name, "timeout_ms"))
        spec->timeout_ms = (uint32_t) value;
    else if (streq (name, "max_retries"))
        spec->max_retries = (int) value;
    else {
        o->seq = value;
        o->has_seq = true;
    }
    return 0;
}

//  The options map of a submit: {handler: str, priority, cpu_millicores, memory_bytes, gpus,
//  redundancy, timeout_ms, max_retries, seq: uint, tags: [str], strategy: str}; handler is
//  required. Unknown keys and wrong types are refused.
static int
s_submit_options (zframe_t *frame, zmesh_task_spec_t *spec, s_submit_options_t *o, s_reply_t *reply)
{
    static const char *uints [] = {"priority",   "cpu_millicores", "memory_bytes", "gpus",
                                   "redundancy", "timeout_ms",     "max_retries",  "seq"};
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, zframe_data (frame), zframe_size (frame));
    uint32_t count;
    if (zmesh_mp_read_map (&r, &count))
        return s_fail (reply, "submit: the options (frame 2) are not a msgpack map");
    for (uint32_t i = 0; i < count; i++) {
        const char *key, *text;
        uint32_t key_size, text_size, tag_count;
        char name [32], shown [64];
        if (zmesh_mp_read_str (&r, &key, &key_size) || key_size >= sizeof name)
            return s_fail (reply, "submit: option %u has no name (a str of 1..31 bytes)", i + 1);
        memcpy (name, key, key_size);
        name [key_size] = 0;
        bool is_uint = false;
        for (size_t u = 0; u < sizeof uints / sizeof *uints; u++)
            is_uint |= streq (name, uints [u]);
        int rc = 0;
        if (is_uint) {
            uint64_t value;
            if ((rc = zmesh_mp_read_uint (&r, &value)) == 0
                && s_submit_uint (spec, o, name, value, reply))
                return -1;
        }
        else if (streq (name, "handler")) {
            if ((rc = zmesh_mp_read_str (&r, &text, &text_size)) == 0) {
                if (!zmesh_task_handler_valid (text, text_size))
                    return s_fail (reply, "submit: a handler name is 1..%d printable ASCII bytes",
                                   ZMESH_TASK_HANDLER_MAX - 1);
                memcpy (o->handler, text, text_size);
                o->handler [text_size] = 0;
            }
        }
        else if (streq (name, "strategy")) {
            if ((rc = zmesh_mp_read_str (&r, &text, &text_size)) == 0) {
                if (text_size >= sizeof o->strategy || memchr (text, 0, text_size))
                    return s_fail (reply, "submit: strategy is score, auction, hash or local");
                memcpy (o->strategy, text, text_size);
                o->strategy [text_size] = 0;
                spec->strategy = o->strategy;  //  checked by zmesh_work_submit_new
            }
        }
        else if (streq (name, "tags")) {
            if ((rc = zmesh_mp_read_array (&r, &tag_count)) == 0) {
                if (tag_count > ZMESH_TASK_TAGS_MAX)
                    return s_fail (reply, "submit: %u required tags; at most %d", tag_count,
                                   ZMESH_TASK_TAGS_MAX);
                for (uint32_t t = 0; t < tag_count; t++) {
                    if (zmesh_mp_read_str (&r, &text, &text_size)
                        || !zmesh_task_tag_valid (text, text_size))
                        return s_fail (reply,
                                       "submit: tag %u is not 1..%d bytes of A-Z a-z 0-9 . _ : -",
                                       t + 1, ZMESH_TASK_TAG_MAX - 1);
                    memcpy (o->tags [t], text, text_size);
                    o->tags [t][text_size] = 0;
                    o->tag_list [t] = o->tags [t];
                }
                spec->tags = o->tag_list;
                spec->tag_count = tag_count;
            }
        }
        else
            return s_fail (reply, "submit: unknown option '%s'",
                           s_printable (shown, sizeof shown, name));
        if (rc)
            return s_fail (reply, "submit: option '%s' has the wrong type", name);
    }
    if (zmesh_mp_remaining (&r))
        return s_fail (reply, "submit: bytes after the options map");
    if (!o->handler [0])
        return s_fail (reply, "submit: no handler given");
    spec->handler = o->handler;
    return 0;
}

//  ["submit"][options][payload]: hand the task to the balancer; the answer is its result.
static int
s_cmd_submit (self_t *self, zframe_t *options, zframe_t *payload, s_reply_t *reply)
{
    if (s_work_socket (self, reply))
        return -1;
    if (zhashx_size (self->submits) >= S_SUBMITS_MAX)
        return s_fail (reply, "%d submits wait for their results already; try again later",
                       S_SUBMITS_MAX);
    size_t peer_size = zframe_size (self->peer);
    if (peer_size > S_ROUTING_ID_MAX)
        return s_fail (reply, "routing id too long");
    zmesh_task_spec_t spec;
    zmesh_task_spec_init (&spec);
    s_submit_options_t o;
    memset (&o, 0, sizeof o);
    if (s_submit_options (options, &spec, &o, reply))
        return -1;
    spec.payload = zframe_data (payload);
    spec.payload_size = zframe_size (payload);
    char id [ZMESH_ID_HEX_SIZE], err [256];
    zmesh_work_submit_t *submit = zmesh_work_submit_new (&spec, id, err, sizeof err);
    if (!submit)
        return s_fail (reply, "submit: %s", err);
    s_submit_t *entry = (s_submit_t *) calloc (1, sizeof *entry);
    if (!entry || zhashx_insert (self->submits, id, entry) != 0) {
        free (entry);
        zmesh_work_submit_destroy (&submit);
        return s_fail (reply, "out of memory");
    }
    memcpy (entry->peer, zframe_data (self->peer), peer_size);
    entry->peer_size = peer_size;
    entry->seq = o.seq;
    entry->has_seq = o.has_seq;
    snprintf (entry->handler, sizeof entry->handler, "%s", o.handler);
    zmesh_work_request_t request = {.kind = 'S', .submit = submit};
    if (zmq_send (zsock_resolve (self->work), &request, sizeof request, ZMQ_DONTWAIT)
        != (int) sizeof request) {
        zmesh_work_submit_destroy (&submit);
        zhashx_delete (self->submits, id);
        return s_fail (reply, "the balancer takes no tasks now: %s", zmq_strerror (zmq_errno ()));
    }
    return S_DEFERRED;
}

//  Which node an argument names: "" or "self" (this one), a name, or an id or its prefix.
static int
s_resolve_node (self_t *self, const char *which, char id [ZMESH_ID_HEX_SIZE], s_reply_t *reply)
{
    if (!which [0] || streq (which, "self")) {
        snprintf (id, ZMESH_ID_HEX_SIZE, "%s", self->ctx->identity.id_hex);
        return 0;
    }
    size_t count, found = 0;
    zmesh_member_t *members = s_members (self, &count);
    if (!members)
        return s_fail (reply, "out of memory");
    for (size_t i = 0; i < count; i++)
        if (streq (members [i].name, which)
            || strncmp (members [i].id, which, strlen (which)) == 0) {
            if (found++ == 0)
                snprintf (id, ZMESH_ID_HEX_SIZE, "%s", members [i].id);
        }
    free (members);
    char shown [64];
    if (found == 0)
        return s_fail (reply, "no member named '%s' (a name, or an id or its prefix)",
                       s_printable (shown, sizeof shown, which));
    if (found > 1)
        return s_fail (reply, "'%s' names %zu members: give more of the id",
                       s_printable (shown, sizeof shown, which), found);
    return 0;
}

//  Forward a call to the gossip actor's state service; its answer is the reply.
static int
s_state (self_t *self, const char *command, const char *a, const char *b, s_reply_t *reply)
{
    zframe_t *payload = NULL;
    char why [S_ERROR_MAX];
    int rc = zmesh_gstate_call (self->ctx->state_endpoint, command, a, b, b ? strlen (b) : 0,
                                &payload, why, sizeof why);
    if (rc)
        return s_fail (reply, "%s", why);
    s_reply_write (reply, (const char *) zframe_data (payload), zframe_size (payload));
    zframe_destroy (&payload);
    return 0;
}

static int
s_cmd_state_set (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    return s_state (self, "set", args [0], args [1], reply);
}

static int
s_cmd_state_del (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    return s_state (self, "del", args [0], NULL, reply);
}

//  state-get NODE KEY ("" NODE: this one)
static int
s_cmd_state_get (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    char id [ZMESH_ID_HEX_SIZE];
    return s_resolve_node (self, args [0], id, reply) ? -1
                                                      : s_state (self, "get", id, args [1], reply);
}

static int
s_cmd_state_keys (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    char id [ZMESH_ID_HEX_SIZE];
    return s_resolve_node (self, args [0], id, reply) ? -1
                                                      : s_state (self, "keys", id, NULL, reply);
}

//  The "value" of a state service answer {owner, key, value: bin, version}; false if none.
static bool
s_answer_value (zframe_t *payload, const uint8_t **value, uint32_t *size)
{
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, zframe_data (payload), zframe_size (payload));
    uint32_t count;
    if (zmesh_mp_read_map (&r, &count))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const char *name;
        uint32_t name_size;
        if (zmesh_mp_read_str (&r, &name, &name_size))
            return false;
        if (name_size == 5 && memcmp (name, "value", 5) == 0)
            return zmesh_mp_read_bin (&r, value, size) == 0;
        if (zmesh_mp_skip (&r))
            return false;
    }
    return false;
}

static int
s_edge_compare (const void *x, const void *y)
{
    const zmesh_edge_t *a = (const zmesh_edge_t *) x, *b = (const zmesh_edge_t *) y;
    return a->a != b->a ? (a->a < b->a ? -1 : 1) : (a->b < b->b ? -1 : a->b > b->b);
}

//  The links of the live members (each publishes its own in its state, zmesh.links), as
//  distinct undirected edges between member indexes. Returns the count; *edges: caller frees.
static size_t
s_topology_edges (self_t *self, const zmesh_member_t *members, size_t count, zmesh_edge_t **edges)
{
    size_t capacity = count * ZMESH_STATE_LINKS_MAX + 1, used = 0;
    *edges = (zmesh_edge_t *) malloc (capacity * sizeof **edges);
    ZMESH_ASSERT (*edges);
    for (size_t i = 0; i < count; i++) {
        zframe_t *payload = NULL;
        const uint8_t *value;
        uint32_t size;
        if (zmesh_gstate_call (self->ctx->state_endpoint, "get", members [i].id,
                               ZMESH_STATE_LINKS_KEY, strlen (ZMESH_STATE_LINKS_KEY), &payload,
                               NULL, 0)
                == 0
            && s_answer_value (payload, &value, &size))
            for (uint32_t at = 0; at + ZMESH_ID_SIZE <= size && used < capacity;
                 at += ZMESH_ID_SIZE) {
                char id_hex [ZMESH_ID_HEX_SIZE];
                zmesh_hex_encode (id_hex, value + at, ZMESH_ID_SIZE);
                for (size_t j = 0; j < count; j++)
                    if (j != i && streq (members [j].id, id_hex)) {
                        (*edges) [used].a = (uint32_t) (i < j ? i : j);
                        (*edges) [used].b = (uint32_t) (i < j ? j : i);
                        used++;
                    }
            }
        zframe_destroy (&payload);
    }
    qsort (*edges, used, sizeof **edges, s_edge_compare);
    size_t unique = 0;
    for (size_t i = 0; i < used; i++)
        if (unique == 0 || s_edge_compare (&(*edges) [unique - 1], &(*edges) [i]) != 0)
            (*edges) [unique++] = (*edges) [i];
    return unique;
}

//  The mesh as a graph: every live member's links and the figures of the whole (degree,
//  diameter, average path, clustering, articulation points, partition risk).
static int
s_cmd_topology (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    size_t all;
    zmesh_member_t *members = s_members (self, &all);
    if (!members)
        return s_fail (reply, "out of memory");
    size_t count = 0;  //  the live ones, first
    for (size_t i = 0; i < all; i++)
        if (streq (members [i].state, "alive") || streq (members [i].state, "suspect"))
            members [count++] = members [i];
    zmesh_edge_t *edges;
    size_t edge_count = s_topology_edges (self, members, count, &edges);
    zmesh_topology_stats_t stats;
    int rc = zmesh_topology_analyse ((uint32_t) count, edges, edge_count, &stats);
    if (rc) {
        free (edges);
        free (members);
        return s_fail (reply, "cannot analyse the graph: %s", zmesh_strerror (rc));
    }
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, 11);
    zmesh_mp_pack_cstr (pk, "nodes");
    msgpack_pack_array (pk, count);
    for (size_t i = 0; i < count; i++) {
        bool cut = false;
        for (uint32_t k = 0; k < stats.articulation_count; k++)
            cut = cut || stats.articulation [k] == i;
        msgpack_pack_map (pk, 4);
        s_pack_kv_str (pk, "id", members [i].id);
        s_pack_kv_str (pk, "name", members [i].name);
        s_pack_kv_uint (pk, "degree", stats.degree [i]);
        zmesh_mp_pack_cstr (pk, "articulation");
        cut ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    }
    zmesh_mp_pack_cstr (pk, "edges");
    msgpack_pack_array (pk, edge_count);
    for (size_t i = 0; i < edge_count; i++) {
        msgpack_pack_array (pk, 2);
        msgpack_pack_uint32 (pk, edges [i].a);
        msgpack_pack_uint32 (pk, edges [i].b);
    }
    s_pack_kv_uint (pk, "components", stats.components);
    s_pack_kv_uint (pk, "degree_min", stats.degree_min);
    s_pack_kv_uint (pk, "degree_max", stats.degree_max);
    s_pack_kv_double (pk, "degree_avg", stats.degree_avg);
    s_pack_kv_uint (pk, "diameter", stats.diameter);
    s_pack_kv_double (pk, "avg_path_length", stats.avg_path_length);
    s_pack_kv_double (pk, "clustering", stats.clustering);
    s_pack_kv_uint (pk, "articulation_points", stats.articulation_count);
    s_pack_kv_double (pk, "partition_risk", stats.partition_risk);
    zmesh_topology_stats_fini (&stats);
    free (edges);
    free (members);
    return 0;
}

//  Subscribe the requester to membership events for S_WATCH_LEASE_MS; asking again renews.
static int
s_cmd_watch (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    size_t size = zframe_size (self->peer);
    if (size > S_ROUTING_ID_MAX)
        return s_fail (reply, "routing id too long");
    int64_t expires = zclock_mono () + S_WATCH_LEASE_MS;
    size_t i = 0;
    while (i < self->watcher_count
           && !(self->watchers [i].id_size == size
                && memcmp (self->watchers [i].id, zframe_data (self->peer), size) == 0))
        i++;
    if (i == self->watcher_count) {
        if (self->watcher_count == S_WATCHERS_MAX)
            return s_fail (reply, "%d watchers already; try again later", S_WATCHERS_MAX);
        memcpy (self->watchers [i].id, zframe_data (self->peer), size);
        self->watchers [i].id_size = size;
        self->watcher_count++;
    }
    self->watchers [i].expires_ms = expires;
    msgpack_pack_map (&reply->pk, 2);
    s_pack_kv_uint (&reply->pk, "lease_ms", S_WATCH_LEASE_MS);
    s_pack_kv_uint (&reply->pk, "tick_ms", S_WATCH_TICK_MS);
    return 0;
}

//  Send [kind][payload] to every watcher whose lease runs; forget the others.
static void
s_watchers_send (self_t *self, const char *kind, const void *payload, size_t size)
{
    int64_t now = zclock_mono ();
    size_t kept = 0;
    for (size_t i = 0; i < self->watcher_count; i++) {
        if (self->watchers [i].expires_ms < now)
            continue;
        self->watchers [kept++] = self->watchers [i];
        zmsg_t *msg = zmsg_new ();
        zmsg_addmem (msg, self->watchers [i].id, self->watchers [i].id_size);
        zmsg_addstr (msg, kind);
        zmsg_addmem (msg, payload, size);
        zmsg_send (&msg, self->router);  //  dropped by the ROUTER if the watcher went away
        zmsg_destroy (&msg);
    }
    self->watcher_count = kept;
}

//  A membership event from the supervisor: [type id name endpoint from to], to the watchers.
static void
s_forward_event (self_t *self, zmsg_t *event)
{
    //  Membership events: type id name endpoint from to; state events (type set, delete,
    //  drop): type id name key value. Frames: type id name endpoint from to key value.
    static const char *keys [] = {"type", "id", "name", "endpoint", "from", "to", "key"};
    if (zmsg_size (event) != 8 || !self->watcher_count)
        return;
    zframe_t *frames [8];
    frames [0] = zmsg_first (event);
    for (size_t i = 1; i < 8; i++)
        frames [i] = zmsg_next (event);
    bool state = zframe_streq (frames [0], "set") || zframe_streq (frames [0], "delete")
                 || zframe_streq (frames [0], "drop");
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, state ? 5 : 6);
    for (size_t i = 0; i < 7; i++) {
        if (state ? (i >= 3 && i <= 5) : i == 6)
            continue;
        zmesh_mp_pack_cstr (&pk, keys [i]);
        msgpack_pack_str (&pk, zframe_size (frames [i]));
        msgpack_pack_str_body (&pk, zframe_data (frames [i]), zframe_size (frames [i]));
    }
    if (state) {
        //  A value that is text travels as a str (JSON shows it as such), else as bin.
        const uint8_t *value = zframe_data (frames [7]);
        size_t size = zframe_size (frames [7]);
        bool text = true;
        for (size_t i = 0; i < size && text; i++)
            text = value [i] >= 0x20 && value [i] < 0x7f;
        zmesh_mp_pack_cstr (&pk, "value");
        if (text) {
            msgpack_pack_str (&pk, size);
            msgpack_pack_str_body (&pk, value, size);
        }
        else {
            msgpack_pack_bin (&pk, size);
            msgpack_pack_bin_body (&pk, value, size);
        }
    }
    s_watchers_send (self, "event", buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
}

//  Test hook: the actor is told to return as if it had crashed, after this reply is sent (the
//  control actor may be the one to die).
static int
s_cmd_fault (self_t *self, char args [][S_ARG_MAX], s_reply_t *reply)
{
    static const char *actors [] = {"gossip", "health", "beacon", "control", "worker", "balancer"};
    bool known = false;
    for (size_t i = 0; i < sizeof actors / sizeof *actors; i++)
        known |= strcmp (args [0], actors [i]) == 0;
    char shown [64];
    if (!known)
        return s_fail (reply,
                       "no actor '%s' to fault (gossip, health, beacon, control, worker or "
                       "balancer)",
                       s_printable (shown, sizeof shown, args [0]));
    if (!zmesh_config_has_actor (&self->ctx->config, args [0]))
        return s_fail (reply, "actor %s does not run on this node (node/actors)", args [0]);
    snprintf (self->fault_actor, sizeof self->fault_actor, "%s", args [0]);
    msgpack_pack_map (&reply->pk, 1);
    s_pack_kv_str (&reply->pk, "fault", args [0]);
    return 0;
}

static const struct {
    const char *name;
    int args;           //  arguments after the command, exactly
    const char *usage;  //  for error messages
    bool hidden;        //  not listed to people (test hooks)
    s_command_fn *fn;
} s_commands [] = {
    {"status", 0, "status", false, s_cmd_status},
    {"members", 0, "members", false, s_cmd_members},
    {"keys", 0, "keys", false, s_cmd_keys},
    {"join", 1, "join CONTACT", false, s_cmd_join},
    {"trust", 2, "trust add KEY", false, s_cmd_trust},
    {"metrics", 0, "metrics", false, s_cmd_metrics},
    {"watch", 0, "watch", false, s_cmd_watch},
    {"topology", 0, "topology", false, s_cmd_topology},
    {"submit", 2, "submit OPTIONS PAYLOAD", false, NULL},  //  binary: s_dispatch_submit
    {"tasks", 0, "tasks", false, s_cmd_tasks},
    {"state-set", 2, "state-set KEY VALUE", false, s_cmd_state_set},
    {"state-get", 2, "state-get NODE KEY", false, s_cmd_state_get},
    {"state-del", 1, "state-del KEY", false, s_cmd_state_del},
    {"state-keys", 1, "state-keys NODE", false, s_cmd_state_keys},
    {"fault", 1, "fault ACTOR", true, s_cmd_fault},
};
#define S_COMMAND_COUNT (sizeof s_commands / sizeof *s_commands)

//  ---------------------------------------------------------------------------------------------
//  Requests

//  ["submit"][options][payload]: the one request whose frames are not text.
static int
s_dispatch_submit (self_t *self, zmsg_t *request, s_reply_t *reply)
{
    size_t frames = zmsg_size (request);
    if (frames != 3)
        return s_fail (reply, "'submit' takes 2 arguments (options, payload), not %zu", frames - 1);
    zmsg_first (request);
    zframe_t *options = zmsg_next (request);
    zframe_t *payload = zmsg_next (request);
    if (zframe_size (options) > S_OPTIONS_MAX)
        return s_fail (reply, "frame 2 (the options) is %zu bytes; at most %d",
                       zframe_size (options), S_OPTIONS_MAX);
    if (zframe_size (payload) > ZMESH_TASK_PAYLOAD_MAX)
        return s_fail (reply, "frame 3 (the payload) is %zu bytes; at most %u",
                       zframe_size (payload), ZMESH_TASK_PAYLOAD_MAX);
    return s_cmd_submit (self, options, payload, reply);
}

//  Check the frames of a request and run its command. 0 with a payload, -1 with an error, or
//  S_DEFERRED when the answer comes later.
static int
s_self_dispatch (self_t *self, zmsg_t *request, s_reply_t *reply)
{
    size_t frames = zmsg_size (request);
    if (frames == 0)
        return s_fail (reply, "empty request: expected a command");
    if (frames > S_FRAMES_MAX)
        return s_fail (reply, "request has %zu frames; at most %d", frames, S_FRAMES_MAX);
    if (zframe_streq (zmsg_first (request), "submit"))
        return s_dispatch_submit (self, request, reply);

    char args [S_FRAMES_MAX][S_ARG_MAX];
    size_t index = 0;
    for (zframe_t *frame = zmsg_first (request); frame; frame = zmsg_next (request), index++) {
        size_t size = zframe_size (frame);
        if (size >= S_ARG_MAX)
            return s_fail (reply, "frame %zu is %zu bytes; at most %d", index + 1, size,
                           S_ARG_MAX - 1);
        if (memchr (zframe_data (frame), 0, size))
            return s_fail (reply, "frame %zu is not text (holds a NUL byte)", index + 1);
        memcpy (args [index], zframe_data (frame), size);
        args [index][size] = 0;
    }
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        if (strcmp (args [0], s_commands [i].name) != 0)
            continue;
        if ((size_t) s_commands [i].args != frames - 1)
            return s_fail (reply, "'%s' takes %d argument%s (%s), not %zu", s_commands [i].name,
                           s_commands [i].args, s_commands [i].args == 1 ? "" : "s",
                           s_commands [i].usage, frames - 1);
        return s_commands [i].fn (self, args + 1, reply);
    }
    char shown [64];
    char list [256] = "";
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        if (!s_commands [i].hidden)
            snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                      list [0] ? ", " : "", s_commands [i].name);
    return s_fail (reply, "unknown command '%s' (commands: %s)",
                   s_printable (shown, sizeof shown, args [0]), list);
}

//  One request from zmeshctl: always answered, whatever it holds.
static void
s_self_handle_router (self_t *self)
{
    zmsg_t *request = zmsg_recv (self->router);
    if (!request)
        return;  //  interrupted
    zframe_t *peer = zmsg_pop (request);
    if (!peer) {
        zmsg_destroy (&request);
        return;
    }
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_CONTROL_REQUESTS, 1);
    s_reply_t reply;
    s_reply_init (&reply);
    self->fault_actor [0] = 0;
    self->peer = peer;
    int rc = s_self_dispatch (self, request, &reply);
    self->peer = NULL;
    zmsg_destroy (&request);
    if (rc == 0 && reply.out_of_memory)
        self->fault_actor [0] = 0;  //  s_answer makes it an error
    if (rc != S_DEFERRED)
        s_answer (self, zframe_data (peer), zframe_size (peer), rc, &reply);
    zframe_destroy (&peer);
    msgpack_sbuffer_destroy (&reply.buffer);

    if (self->fault_actor [0])
        zstr_sendx (self->pipe, "ROUTE", self->fault_actor, "FAULT", NULL);
    self->fault_actor [0] = 0;
}

//  From the supervisor: $TERM (stop), FAULT (die at once), EVENT (for watchers).
static void
s_self_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg)
        return;  //  interrupted
    char *command = zmsg_popstr (msg);
    if (command && (streq (command, "$TERM") || streq (command, "FAULT")))
        self->terminated = true;
    else if (command && streq (command, "EVENT"))
        s_forward_event (self, msg);
    else
        zsys_warning ("control: unexpected '%s' on the pipe, ignored", command ? command : "");
    zstr_free (&command);
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------------------------------
//  Setup

//  Does a process accept connections on this unix socket file? Non-blocking, so a listener
//  whose backlog is full (EAGAIN) counts as live rather than stalling the start.
static bool
s_socket_is_live (const char *path)
{
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf (address.sun_path, sizeof address.sun_path, "%s", path);
    bool live = connect (fd, (struct sockaddr *) &address, sizeof address) == 0 || errno == EAGAIN;
    close (fd);
    return live;
}

//  Bind the ROUTER at ipc://DATA/control.sock, mode 0600. A socket file left by a node that
//  died is removed; one that a live process serves is an error (two nodes on one data dir).
static int
s_self_bind (self_t *self, char *reason, size_t reason_size)
{
    const char *data = self->ctx->config.data;
    int length = snprintf (self->path, sizeof self->path, "%s/%s", data, S_SOCKET_NAME);
    if (length < 0 || (size_t) length >= sizeof self->path) {
        snprintf (reason, reason_size,
                  "%s/%s is longer than a unix socket path may be (%zu bytes); use a shorter "
                  "node/data",
                  data, S_SOCKET_NAME, sizeof self->path - 1);
        self->path [0] = 0;
        return -1;
    }
    struct stat info;
    if (lstat (self->path, &info) == 0) {
        if (!S_ISSOCK (info.st_mode)) {
            snprintf (reason, reason_size, "%s exists and is not a socket; remove it", self->path);
            self->path [0] = 0;  //  not ours to remove at exit
            return -1;
        }
        if (s_socket_is_live (self->path)) {
            snprintf (reason, reason_size,
                      "another process serves %s: is another node running with this data "
                      "directory?",
                      self->path);
            self->path [0] = 0;
            return -1;
        }
        if (unlink (self->path) && errno != ENOENT) {
            snprintf (reason, reason_size, "cannot remove the stale %s: %s", self->path,
                      strerror (errno));
            self->path [0] = 0;
            return -1;
        }
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
        snprintf (reason, reason_size, "cannot create the control socket: %s",
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    zsock_set_linger (self->router, 0);
    zsock_set_maxmsgsize (self->router, S_MSG_BYTES_MAX);
    //  A map keeps many submits waiting; their answers must not be dropped at the default 1000.
    zsock_set_sndhwm (self->router, S_ROUTER_HWM);
    if (zsock_bind (self->router, "ipc://%s", self->path) == -1) {
        snprintf (reason, reason_size, "cannot bind ipc://%s: %s", self->path,
                  zmq_strerror (zmq_errno ()));
        self->path [0] = 0;
        return -1;
    }
    //  The 0700 data directory already keeps others out between bind and chmod.
    if (chmod (self->path, 0600)) {
        snprintf (reason, reason_size, "cannot chmod 600 %s: %s", self->path, strerror (errno));
        return -1;
    }
    return 0;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->router);
    if (self->work) {
        //  What the balancer sent and nobody will read: its pointers are ours to free.
        zmesh_work_reply_t reply;
        while (zmq_recv (zsock_resolve (self->work), &reply, sizeof reply, ZMQ_DONTWAIT)
               == (int) sizeof reply) {
            zmesh_task_result_destroy (&reply.result);
            free (reply.list);
        }
        zsock_destroy (&self->work);
    }
    zhashx_destroy (&self->submits);
    //  libzmq leaves the file behind; without it zmeshctl can tell "not running" at once.
    if (self->path [0])
        unlink (self->path);
    free (self);
    *self_p = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, zmesh_node_ctx_t *ctx, char *reason, size_t reason_size)
{
    self_t *self = (self_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (reason, reason_size, "out of memory");
        return NULL;
    }
    self->pipe = pipe;
    self->ctx = ctx;
    self->submits = zhashx_new ();
    if (!self->submits) {
        snprintf (reason, reason_size, "out of memory");
        s_self_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->submits, s_submit_free);
    if (s_self_bind (self, reason, reason_size) == 0) {
        self->poller = zpoller_new (pipe, self->router, NULL);
        if (self->poller) {
            //  A SIGINT to the process is the daemon's to handle: keep serving until $TERM.
            zpoller_set_nonstop (self->poller, true);
            return self;
        }
        snprintf (reason, reason_size, "cannot create a poller");
    }
    s_self_destroy (&self);
    return NULL;
}

//  ---------------------------------------------------------------------------------------------
//  The actor

//  The poll timeout: until the next tick while anyone watches, the next expiry of a request
//  waiting for the balancer, the next check on the balancer while submits wait; else -1.
//  Without any of them nothing here is periodic, so an idle node's control actor sleeps until
//  a request comes. The last lease to run out is noticed at a tick (s_watchers_send), which
//  stops the ticks.
static int
s_self_timeout (self_t *self)
{
    int64_t now = zclock_mono ();
    int64_t due = INT64_MAX;
    if (self->watcher_count)
        due =
            self->next_tick_ms < now + S_WATCH_TICK_MS ? self->next_tick_ms : now + S_WATCH_TICK_MS;
    if (self->waiter_count && self->waiters [0].expires_ms < due)
        due = self->waiters [0].expires_ms;
    if (self->work && zhashx_size (self->submits) && self->next_work_check_ms < due)
        due = self->next_work_check_ms;
    if (due == INT64_MAX)
        return -1;
    return due <= now ? 0 : (int) (due - now);
}

void
zmesh_control_actor (zsock_t *pipe, void *args)
{
    zmesh_node_ctx_t *ctx = (zmesh_node_ctx_t *) args;
    ZMESH_ASSERT (ctx);
    zsock_signal (pipe, 0);
    zmesh_actor_name ("control");

    char reason [S_ERROR_MAX + ZMESH_DATA_PATH_MAX];
    self_t *self = s_self_new (pipe, ctx, reason, sizeof reason);
    if (!self) {
        zmesh_actor_failed (pipe, reason);
        return;
    }
    zmesh_actor_ready (pipe);

    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, s_self_timeout (self));
        if (which == pipe)
            s_self_handle_pipe (self);
        else if (which == self->router)
            s_self_handle_router (self);
        else if (!which && zpoller_terminated (self->poller) && zmq_errno () != EINTR)
            break;  //  the context is shutting down
        //  Whatever else waits on either socket, in turns: a client sending many submits must
        //  not starve the balancer's answers, nor the reverse.
        for (int n = 1;
             n < S_RECV_BATCH && !self->terminated && (zsock_events (self->router) & ZMQ_POLLIN);
             n++)
            s_self_handle_router (self);
        s_work_read (self);
        s_work_watch (self);
        if (self->watcher_count && zclock_mono () >= self->next_tick_ms) {
            s_watchers_send (self, "tick", "", 0);
            self->next_tick_ms = zclock_mono () + S_WATCH_TICK_MS;
        }
    }
    s_self_destroy (&self);
}
