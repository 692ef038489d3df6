/*  zmesh_control_internal.h: what zmesh_control.c (the actor: requests, answers, watchers, the
    socket, the loop), zmesh_control_mesh.c (the commands about the mesh and this node) and
    zmesh_control_work.c (the commands that go through the balancer) share. Not for other
    actors: the control actor's face is zmesh_control_actor in zmesh_actors.h.
*/
#ifndef ZMESH_CONTROL_INTERNAL_H_INCLUDED
#define ZMESH_CONTROL_INTERNAL_H_INCLUDED

#include "zmesh_actors.h"
#include "zmesh_node_ctx.h"
#include <msgpack.h>
#include <sys/un.h>

#define ZMESH_CONTROL_ARG_MAX        ZMESH_CONTACT_MAX  //  bytes of one argument, NUL included
#define ZMESH_CONTROL_ERROR_MAX      512                //  bytes of an error message
#define ZMESH_CONTROL_WATCHERS_MAX   16                 //  zmeshctl watch sessions at once
#define ZMESH_CONTROL_ROUTING_ID_MAX 256                //  bytes of a ROUTER routing id

#define ZMESH_CONTROL_SUBMITS_MAX 100000  //  submits waiting for their result at once
#define ZMESH_CONTROL_WAITERS_MAX 64   //  tasks / metrics requests waiting for the balancer at once
#define ZMESH_CONTROL_RECV_BATCH  256  //  messages read from one socket per wake-up
#define ZMESH_CONTROL_DEFERRED    1    //  a command's return: answered later

//  Bytes of a unix socket path, NUL included (108 on Linux).
#define ZMESH_CONTROL_SUN_PATH_MAX sizeof (((struct sockaddr_un *) 0)->sun_path)

typedef struct {
    zsock_t *pipe;                           //  to the supervisor
    zmesh_node_ctx_t *ctx;                   //  the node's shared state, borrowed
    zsock_t *router;                         //  serves zmeshctl
    zpoller_t *poller;                       //  pipe + router
    char path [ZMESH_CONTROL_SUN_PATH_MAX];  //  the socket file
    bool terminated;                         //  $TERM or FAULT received
    char fault_actor [16];                   //  fault to inject once the reply is sent ("" = none)
    zframe_t *peer;                          //  routing id of the request being served (borrowed)
    struct {
        uint8_t id [ZMESH_CONTROL_ROUTING_ID_MAX];  //  its routing id
        size_t id_size;
        int64_t expires_ms;                   //  zclock_mono time its lease ends
    } watchers [ZMESH_CONTROL_WATCHERS_MAX];  //  zmeshctl watch sessions
    size_t watcher_count;
    int64_t next_tick_ms;  //  next "tick" to watchers
    //  Work: the DEALER to the balancer, and who waits for its answers (zmesh_control_work.c).
    zsock_t *work;               //  NULL until the first submit, tasks or metrics
    uint32_t balancer_restarts;  //  the balancer's restart count when `work` was made
    int64_t next_work_check_ms;  //  next look at the balancer's status while work waits
    zhashx_t *submits;           //  task id (hex) -> s_submit_t: requests waiting for a result
    //  LIST requests sent, oldest first (the balancer is FIFO)
    struct {
        uint8_t id [ZMESH_CONTROL_ROUTING_ID_MAX];  //  the requester's routing id
        size_t id_size;
        char command;        //  't' tasks, 'm' metrics
        int64_t expires_ms;  //  zclock_mono time it is answered without the balancer
    } waiters [ZMESH_CONTROL_WAITERS_MAX];
    size_t waiter_count;
} zmesh_control_t;

//  One reply being built: a msgpack payload, or an error message.
typedef struct {
    msgpack_sbuffer buffer;                //  the payload
    msgpack_packer pk;                     //  writes into buffer through zmesh_control__reply_write
    bool out_of_memory;                    //  a write did not fit; the payload is unusable
    char error [ZMESH_CONTROL_ERROR_MAX];  //  set when the command failed
} zmesh_control_reply_t;

//  0 with a payload, -1 with an error, or ZMESH_CONTROL_DEFERRED: the answer is sent later.
typedef int (zmesh_control_command_fn) (zmesh_control_t *self,
                                        char args [][ZMESH_CONTROL_ARG_MAX],
                                        zmesh_control_reply_t *reply);

//  ---------------------------------------------------------------------------------------------
//  Replies and answers (zmesh_control.c).

//  The msgpack write callback of a reply (data: the zmesh_control_reply_t); -1 once out of
//  memory.
int zmesh_control__reply_write (void *data, const char *buf, size_t len);

//  An empty reply, its packer writing into its buffer.
void zmesh_control__reply_init (zmesh_control_reply_t *reply);

//  Record why a command failed; returns -1 for `return zmesh_control__fail (...)`.
int zmesh_control__fail (zmesh_control_reply_t *reply, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  A key and its value, into a map being packed.
void zmesh_control__pack_kv_str (msgpack_packer *pk, const char *key, const char *value);
void zmesh_control__pack_kv_uint (msgpack_packer *pk, const char *key, uint64_t value);

//  Copy of text fit to quote in an error message: printable ASCII, the rest as '?'.
const char *zmesh_control__printable (char *dest, size_t dest_size, const char *text);

//  Send an answer to a requester: ["ok"][payload] if rc is 0, else ["error"][message].
void zmesh_control__answer (zmesh_control_t *self,
                            const void *peer,
                            size_t peer_size,
                            int rc,
                            zmesh_control_reply_t *reply);

//  ---------------------------------------------------------------------------------------------
//  The mesh and this node (zmesh_control_mesh.c).

//  The members snapshot, self first (this node alone before gossip has published one). NULL if
//  out of memory; the caller frees it.
zmesh_member_t *zmesh_control__members (zmesh_control_t *self, size_t *count);

//  How many members are in this state.
size_t zmesh_control__count_state (const zmesh_member_t *members, size_t count, const char *state);

//  Seconds since the node started.
uint64_t zmesh_control__uptime_s (const zmesh_node_ctx_t *ctx);

//  Commands of the table (zmesh_control.c): status, members, keys, join CONTACT, trust add KEY,
//  state-set KEY VALUE, state-del KEY, state-get NODE KEY, state-keys NODE, topology, and the
//  test hook fault ACTOR.
int zmesh_control__cmd_status (zmesh_control_t *self,
                               char args [][ZMESH_CONTROL_ARG_MAX],
                               zmesh_control_reply_t *reply);
int zmesh_control__cmd_members (zmesh_control_t *self,
                                char args [][ZMESH_CONTROL_ARG_MAX],
                                zmesh_control_reply_t *reply);
int zmesh_control__cmd_keys (zmesh_control_t *self,
                             char args [][ZMESH_CONTROL_ARG_MAX],
                             zmesh_control_reply_t *reply);
int zmesh_control__cmd_join (zmesh_control_t *self,
                             char args [][ZMESH_CONTROL_ARG_MAX],
                             zmesh_control_reply_t *reply);
int zmesh_control__cmd_trust (zmesh_control_t *self,
                              char args [][ZMESH_CONTROL_ARG_MAX],
                              zmesh_control_reply_t *reply);
int zmesh_control__cmd_state_set (zmesh_control_t *self,
                                  char args [][ZMESH_CONTROL_ARG_MAX],
                                  zmesh_control_reply_t *reply);
int zmesh_control__cmd_state_del (zmesh_control_t *self,
                                  char args [][ZMESH_CONTROL_ARG_MAX],
                                  zmesh_control_reply_t *reply);
int zmesh_control__cmd_state_get (zmesh_control_t *self,
                                  char args [][ZMESH_CONTROL_ARG_MAX],
                                  zmesh_control_reply_t *reply);
int zmesh_control__cmd_state_keys (zmesh_control_t *self,
                                   char args [][ZMESH_CONTROL_ARG_MAX],
                                   zmesh_control_reply_t *reply);
int zmesh_control__cmd_topology (zmesh_control_t *self,
                                 char args [][ZMESH_CONTROL_ARG_MAX],
                                 zmesh_control_reply_t *reply);
int zmesh_control__cmd_fault (zmesh_control_t *self,
                              char args [][ZMESH_CONTROL_ARG_MAX],
                              zmesh_control_reply_t *reply);

//  ---------------------------------------------------------------------------------------------
//  Work, through the balancer (zmesh_control_work.c).

//  Commands of the table: metrics, tasks.
int zmesh_control__cmd_metrics (zmesh_control_t *self,
                                char args [][ZMESH_CONTROL_ARG_MAX],
                                zmesh_control_reply_t *reply);
int zmesh_control__cmd_tasks (zmesh_control_t *self,
                              char args [][ZMESH_CONTROL_ARG_MAX],
                              zmesh_control_reply_t *reply);

//  ["submit"][options][payload], its frames checked for size: hand the task to the balancer.
//  ZMESH_CONTROL_DEFERRED (the answer is its result), or -1 with the reason.
int zmesh_control__cmd_submit (zmesh_control_t *self,
                               zframe_t *options,
                               zframe_t *payload,
                               zmesh_control_reply_t *reply);

//  Read what the balancer sent: results and lists. Returns how many were read.
int zmesh_control__work_read (zmesh_control_t *self);

//  Work to check on at each wake-up: tasks and metrics requests that waited too long, and
//  whether the balancer restarted under what waits for it.
void zmesh_control__work_watch (zmesh_control_t *self);

#endif
