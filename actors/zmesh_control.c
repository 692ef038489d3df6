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

    The actor reads the node's shared state (zmesh_node_ctx.h) and copies out under its lock;
    what must change another actor's state (join, trust, fault) goes to the supervisor as a
    "ROUTE" message on the pipe (zmesh_actors.h). A request can never crash the node: every
    frame is checked for count, size and content before a command sees it, and anything off is
    an "error" reply, counted in zmesh_control_errors_total.

    The actor is split by concern. This file is the actor itself: building and sending answers,
    checking a request and running its command from the table, the watchers of zmeshctl watch,
    binding the socket, and the loop. zmesh_control_mesh.c holds the commands about the mesh
    and this node (status, members, keys, join, trust, state-*, topology, fault),
    zmesh_control_work.c those that go through the balancer (submit, tasks, metrics). What the
    three files share is declared in zmesh_control_internal.h.
*/
#include "zmesh_balancer.h"
#include "zmesh_control_internal.h"
#include "zmesh_mpack.h"
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_FRAMES_MAX     8               //  frames of one request: command + arguments
#define S_SOCKET_NAME    "control.sock"  //  in the data directory
#define S_WATCH_LEASE_MS 10000           //  a watcher that does not renew is dropped
#define S_WATCH_TICK_MS  2000            //  "tick" to watchers, so they notice a dead node

//  libzmq drops a peer that sends a larger frame: a submit's payload, and room to spare.
#define S_MSG_BYTES_MAX (ZMESH_TASK_PAYLOAD_MAX + 65536)
#define S_OPTIONS_MAX   4096  //  bytes of a submit's options (a msgpack map)
//  Answers queued to one zmeshctl at most.
#define S_ROUTER_HWM (ZMESH_CONTROL_SUBMITS_MAX + 1000)

//  ---------------------------------------------------------------------------------------------
//  Replies and answers

int
zmesh_control__reply_write (void *data, const char *buf, size_t len)
{
    zmesh_control_reply_t *reply = (zmesh_control_reply_t *) data;
    if (reply->out_of_memory)
        return -1;
    if (msgpack_sbuffer_write (&reply->buffer, buf, len)) {
        reply->out_of_memory = true;
        return -1;
    }
    return 0;
}

void
zmesh_control__reply_init (zmesh_control_reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    msgpack_sbuffer_init (&reply->buffer);
    msgpack_packer_init (&reply->pk, reply, zmesh_control__reply_write);
}

//  Record why a command failed; returns -1 for `return zmesh_control__fail (...)`.
int
zmesh_control__fail (zmesh_control_reply_t *reply, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (reply->error, sizeof reply->error, format, args);
    va_end (args);
    return -1;
}

void
zmesh_control__pack_kv_str (msgpack_packer *pk, const char *key, const char *value)
{
    zmesh_mp_pack_cstr (pk, key);
    zmesh_mp_pack_cstr (pk, value);
}

void
zmesh_control__pack_kv_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    zmesh_mp_pack_cstr (pk, key);
    msgpack_pack_uint64 (pk, value);
}

//  Copy of text fit to quote in an error message: printable ASCII, the rest as '?'.
const char *
zmesh_control__printable (char *dest, size_t dest_size, const char *text)
{
    size_t i = 0;
    for (; text [i] && i + 1 < dest_size; i++)
        dest [i] = text [i] >= 0x20 && text [i] < 0x7f ? text [i] : '?';
    dest [i] = 0;
    return dest;
}

//  Send an answer to a requester: ["ok"][payload] if rc is 0, else ["error"][message].
void
zmesh_control__answer (
    zmesh_control_t *self, const void *peer, size_t peer_size, int rc, zmesh_control_reply_t *reply)
{
    if (rc == 0 && reply->out_of_memory)
        rc = zmesh_control__fail (reply, "out of memory");
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

//  ---------------------------------------------------------------------------------------------
//  Watchers

//  Subscribe the requester to membership events for S_WATCH_LEASE_MS; asking again renews.
static int
s_cmd_watch (zmesh_control_t *self,
             char args [][ZMESH_CONTROL_ARG_MAX],
             zmesh_control_reply_t *reply)
{
    size_t size = zframe_size (self->peer);
    if (size > ZMESH_CONTROL_ROUTING_ID_MAX)
        return zmesh_control__fail (reply, "routing id too long");
    int64_t expires = zclock_mono () + S_WATCH_LEASE_MS;
    size_t i = 0;
    while (i < self->watcher_count
           && !(self->watchers [i].id_size == size
                && memcmp (self->watchers [i].id, zframe_data (self->peer), size) == 0))
        i++;
    if (i == self->watcher_count) {
        if (self->watcher_count == ZMESH_CONTROL_WATCHERS_MAX)
            return zmesh_control__fail (reply, "%d watchers already; try again later",
                                        ZMESH_CONTROL_WATCHERS_MAX);
        memcpy (self->watchers [i].id, zframe_data (self->peer), size);
        self->watchers [i].id_size = size;
        self->watcher_count++;
    }
    self->watchers [i].expires_ms = expires;
    msgpack_pack_map (&reply->pk, 2);
    zmesh_control__pack_kv_uint (&reply->pk, "lease_ms", S_WATCH_LEASE_MS);
    zmesh_control__pack_kv_uint (&reply->pk, "tick_ms", S_WATCH_TICK_MS);
    return 0;
}

//  Send [kind][payload] to every watcher whose lease runs; forget the others.
static void
s_watchers_send (zmesh_control_t *self, const char *kind, const void *payload, size_t size)
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
s_forward_event (zmesh_control_t *self, zmsg_t *event)
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

//  ---------------------------------------------------------------------------------------------
//  Requests

static const struct {
    const char *name;
    int args;           //  arguments after the command, exactly
    const char *usage;  //  for error messages
    bool hidden;        //  not listed to people (test hooks)
    zmesh_control_command_fn *fn;
} s_commands [] = {
    {"status", 0, "status", false, zmesh_control__cmd_status},
    {"members", 0, "members", false, zmesh_control__cmd_members},
    {"keys", 0, "keys", false, zmesh_control__cmd_keys},
    {"join", 1, "join CONTACT", false, zmesh_control__cmd_join},
    {"trust", 2, "trust add KEY", false, zmesh_control__cmd_trust},
    {"metrics", 0, "metrics", false, zmesh_control__cmd_metrics},
    {"watch", 0, "watch", false, s_cmd_watch},
    {"topology", 0, "topology", false, zmesh_control__cmd_topology},
    {"submit", 2, "submit OPTIONS PAYLOAD", false, NULL},  //  binary: s_dispatch_submit
    {"tasks", 0, "tasks", false, zmesh_control__cmd_tasks},
    {"state-set", 2, "state-set KEY VALUE", false, zmesh_control__cmd_state_set},
    {"state-get", 2, "state-get NODE KEY", false, zmesh_control__cmd_state_get},
    {"state-del", 1, "state-del KEY", false, zmesh_control__cmd_state_del},
    {"state-keys", 1, "state-keys NODE", false, zmesh_control__cmd_state_keys},
    {"fault", 1, "fault ACTOR", true, zmesh_control__cmd_fault},
};
#define S_COMMAND_COUNT (sizeof s_commands / sizeof *s_commands)

//  ["submit"][options][payload]: the one request whose frames are not text.
static int
s_dispatch_submit (zmesh_control_t *self, zmsg_t *request, zmesh_control_reply_t *reply)
{
    size_t frames = zmsg_size (request);
    if (frames != 3)
        return zmesh_control__fail (reply, "'submit' takes 2 arguments (options, payload), not %zu",
                                    frames - 1);
    zmsg_first (request);
    zframe_t *options = zmsg_next (request);
    zframe_t *payload = zmsg_next (request);
    if (zframe_size (options) > S_OPTIONS_MAX)
        return zmesh_control__fail (reply, "frame 2 (the options) is %zu bytes; at most %d",
                                    zframe_size (options), S_OPTIONS_MAX);
    if (zframe_size (payload) > ZMESH_TASK_PAYLOAD_MAX)
        return zmesh_control__fail (reply, "frame 3 (the payload) is %zu bytes; at most %u",
                                    zframe_size (payload), ZMESH_TASK_PAYLOAD_MAX);
    return zmesh_control__cmd_submit (self, options, payload, reply);
}

//  Check the frames of a request and run its command. 0 with a payload, -1 with an error, or
//  ZMESH_CONTROL_DEFERRED when the answer comes later.
static int
s_self_dispatch (zmesh_control_t *self, zmsg_t *request, zmesh_control_reply_t *reply)
{
    size_t frames = zmsg_size (request);
    if (frames == 0)
        return zmesh_control__fail (reply, "empty request: expected a command");
    if (frames > S_FRAMES_MAX)
        return zmesh_control__fail (reply, "request has %zu frames; at most %d", frames,
                                    S_FRAMES_MAX);
    if (zframe_streq (zmsg_first (request), "submit"))
        return s_dispatch_submit (self, request, reply);

    char args [S_FRAMES_MAX][ZMESH_CONTROL_ARG_MAX];
    size_t index = 0;
    for (zframe_t *frame = zmsg_first (request); frame; frame = zmsg_next (request), index++) {
        size_t size = zframe_size (frame);
        if (size >= ZMESH_CONTROL_ARG_MAX)
            return zmesh_control__fail (reply, "frame %zu is %zu bytes; at most %d", index + 1,
                                        size, ZMESH_CONTROL_ARG_MAX - 1);
        if (memchr (zframe_data (frame), 0, size))
            return zmesh_control__fail (reply, "frame %zu is not text (holds a NUL byte)",
                                        index + 1);
        memcpy (args [index], zframe_data (frame), size);
        args [index][size] = 0;
    }
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        if (strcmp (args [0], s_commands [i].name) != 0)
            continue;
        if ((size_t) s_commands [i].args != frames - 1)
            return zmesh_control__fail (reply, "'%s' takes %d argument%s (%s), not %zu",
                                        s_commands [i].name, s_commands [i].args,
                                        s_commands [i].args == 1 ? "" : "s", s_commands [i].usage,
                                        frames - 1);
        return s_commands [i].fn (self, args + 1, reply);
    }
    char shown [64];
    char list [256] = "";
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        if (!s_commands [i].hidden)
            snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                      list [0] ? ", " : "", s_commands [i].name);
    return zmesh_control__fail (reply, "unknown command '%s' (commands: %s)",
                                zmesh_control__printable (shown, sizeof shown, args [0]), list);
}

//  One request from zmeshctl: always answered, whatever it holds.
static void
s_self_handle_router (zmesh_control_t *self)
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
    zmesh_control_reply_t reply;
    zmesh_control__reply_init (&reply);
    self->fault_actor [0] = 0;
    self->peer = peer;
    int rc = s_self_dispatch (self, request, &reply);
    self->peer = NULL;
    zmsg_destroy (&request);
    if (rc == 0 && reply.out_of_memory)
        self->fault_actor [0] = 0;  //  zmesh_control__answer makes it an error
    if (rc != ZMESH_CONTROL_DEFERRED)
        zmesh_control__answer (self, zframe_data (peer), zframe_size (peer), rc, &reply);
    zframe_destroy (&peer);
    msgpack_sbuffer_destroy (&reply.buffer);

    if (self->fault_actor [0])
        zstr_sendx (self->pipe, "ROUTE", self->fault_actor, "FAULT", NULL);
    self->fault_actor [0] = 0;
}

//  From the supervisor: $TERM (stop), FAULT (die at once), EVENT (for watchers).
static void
s_self_handle_pipe (zmesh_control_t *self)
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
s_self_bind (zmesh_control_t *self, char *reason, size_t reason_size)
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
s_self_destroy (zmesh_control_t **self_p)
{
    zmesh_control_t *self = *self_p;
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

//  The submits table's destructor: its items (s_submit_t, zmesh_control_work.c) are one block.
static void
s_submit_free (void **item)
{
    free (*item);
    *item = NULL;
}

static zmesh_control_t *
s_self_new (zsock_t *pipe, zmesh_node_ctx_t *ctx, char *reason, size_t reason_size)
{
    zmesh_control_t *self = (zmesh_control_t *) calloc (1, sizeof *self);
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
s_self_timeout (zmesh_control_t *self)
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

    char reason [ZMESH_CONTROL_ERROR_MAX + ZMESH_DATA_PATH_MAX];
    zmesh_control_t *self = s_self_new (pipe, ctx, reason, sizeof reason);
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
        for (int n = 1; n < ZMESH_CONTROL_RECV_BATCH && !self->terminated
                        && (zsock_events (self->router) & ZMQ_POLLIN);
             n++)
            s_self_handle_router (self);
        zmesh_control__work_read (self);
        zmesh_control__work_watch (self);
        if (self->watcher_count && zclock_mono () >= self->next_tick_ms) {
            s_watchers_send (self, "tick", "", 0);
            self->next_tick_ms = zclock_mono () + S_WATCH_TICK_MS;
        }
    }
    s_self_destroy (&self);
}
