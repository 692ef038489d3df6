/*  zmesh.h: the public API of libzmesh, the only header a service embedding zmesh includes.

    A node is a supervisor composing actors (gossip, health, worker, balancer, beacon,
    control) in threads of the calling process. Typical use:

        zmesh_config_t *config = zmesh_config_new ();
        zmesh_config_set (config, "node/data", "/var/lib/myservice/zmesh", err, sizeof err);
        zmesh_config_add_seed (config, "tcp://10.0.0.1:7000#<key>", err, sizeof err);
        zmesh_node_t *node = zmesh_node_new (config, err, sizeof err);
        zmesh_config_destroy (&config);           //  the node keeps its own copy
        if (!node || zmesh_node_start (node, err, sizeof err))
            ... report err ...
        zmesh_event_t event;
        while (zmesh_node_event_recv (node, &event, 1000) == ZMESH_OK)
            printf ("%s %s %s -> %s\n", event.name, event.id, event.from, event.to);
        zmesh_node_destroy (&node);                //  announces LEAVE, stops the actors

    Errors are negative ZMESH_E* codes (zmesh_error.h, zmesh_strerror); functions that take
    `char *err, size_t err_size` also write a sentence naming the problem there. Functions
    are safe to call from one thread at a time per node; different nodes are independent.
    Ownership follows CZMQ: `T **self_p` destroys and nulls; returned `char *` is the
    caller's to free; everything else is borrowed.
*/
#ifndef ZMESH_H_INCLUDED
#define ZMESH_H_INCLUDED

#include "zmesh_error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZMESH_API_VERSION "0.1.0"

typedef struct _zmesh_config_t zmesh_config_t;
typedef struct _zmesh_node_t zmesh_node_t;

//  ---------------------------------------------------------------------------------------------
//  Configuration: every key with its default, unit and meaning is in docs/config.md, and
//  `zmeshd --config-help` prints the same table.

zmesh_config_t *zmesh_config_new (void);
void zmesh_config_destroy (zmesh_config_t **self_p);
//  Read a ZPL file (CZMQ zconfig); its keys override the current values. Unknown keys and bad
//  values are errors naming the key and its line.
int zmesh_config_load (zmesh_config_t *self, const char *path, char *err, size_t err_size);
//  Set one key, "section/name", from text, validated as the file would be.
int zmesh_config_set (
    zmesh_config_t *self, const char *key, const char *value, char *err, size_t err_size);
//  Add a seed, "tcp://HOST:PORT#PUBLICKEY" (repeatable).
int zmesh_config_add_seed (zmesh_config_t *self, const char *contact, char *err, size_t err_size);
//  Admit a public key (hex) in trusted mode.
int
zmesh_config_add_trusted (zmesh_config_t *self, const char *key_hex, char *err, size_t err_size);
//  The value of a key as text (a fresh string, caller frees), NULL for an unknown key.
char *zmesh_config_get (const zmesh_config_t *self, const char *key);
//  Checks that need several keys at once (node/data set, timeouts in order). ZMESH_ECONFIG
//  with err naming the keys; zmesh_node_new runs it too.
int zmesh_config_validate (const zmesh_config_t *self, char *err, size_t err_size);
//  Print the table of keys (markdown) to a stream.
void zmesh_config_print_reference (void *file);

//  ---------------------------------------------------------------------------------------------
//  Nodes

//  Create a node: loads or creates its identity in node/data and reads DATA/trusted/.
//  Nothing runs until zmesh_node_start. NULL on error, with the reason in err.
zmesh_node_t *zmesh_node_new (const zmesh_config_t *config, char *err, size_t err_size);
//  Start the actors the config names, in dependency order. Returns when they are running.
int zmesh_node_start (zmesh_node_t *self, char *err, size_t err_size);
//  Announce LEAVE to peers, stop the actors in reverse order. Idempotent.
void zmesh_node_stop (zmesh_node_t *self);
//  Stop if running, then free everything and null *self_p.
void zmesh_node_destroy (zmesh_node_t **self_p);

//  Identity: node id (32 hex), public key (64 hex), name. Borrowed, valid for the node's life.
const char *zmesh_node_id (zmesh_node_t *self);
const char *zmesh_node_public_key (zmesh_node_t *self);
const char *zmesh_node_name (zmesh_node_t *self);
//  The endpoint peers use to reach this node, once started ("" before). Borrowed.
const char *zmesh_node_endpoint (zmesh_node_t *self);
//  "ENDPOINT#PUBLICKEY": what another node passes to --seed or join. Caller frees.
char *zmesh_node_contact (zmesh_node_t *self);

typedef struct {
    char id [33];          //  node id, hex
    char name [64];        //  node name
    char endpoint [256];   //  where it listens
    char public_key [65];  //  Ed25519 public key, hex
    char state [8];        //  "alive", "suspect", "dead" or "left"
    bool self;             //  this node
    uint64_t generation;   //  grows at each restart of that node
    uint32_t incarnation;  //  grows each time it refutes a suspicion, within a generation
    char view [8];         //  "active" (a neighbour this node links to and probes), "passive"
                           //  (a reserve neighbour) or "" (known through gossip only)
    uint64_t silent_ms;    //  time since its last message to this node; 0 for self and for
                           //  members that never sent one (they are known through others)
} zmesh_member_t;

//  Fill up to max members (this node first). Returns how many, or a negative error.
int zmesh_node_members (zmesh_node_t *self, zmesh_member_t *members, size_t max);
//  Connect to a node: "tcp://HOST:PORT#PUBLICKEY".
int zmesh_node_join (zmesh_node_t *self, const char *contact);
//  Admit a key (hex) at once and remember it in DATA/trusted/.
int zmesh_node_trust (zmesh_node_t *self, const char *key_hex);

typedef enum {
    ZMESH_EVENT_JOINED = 1,        //  a node was heard for the first time
    ZMESH_EVENT_STATE = 2,         //  a node's state changed (alive, suspect, dead)
    ZMESH_EVENT_LEFT = 3,          //  a node announced it is leaving
    ZMESH_EVENT_FORGOTTEN = 4,     //  a dead or left node was removed from the table
    ZMESH_EVENT_STATE_SET = 5,     //  a node's state key got a value (key, value)
    ZMESH_EVENT_STATE_DELETE = 6,  //  a node's state key was deleted (key)
    ZMESH_EVENT_STATE_DROP = 7,    //  every key of a node is gone (it restarted or was forgotten)
    ZMESH_EVENT_RESTARTED = 8      //  a node came back as a new generation (maybe elsewhere)
} zmesh_event_type_t;

#define ZMESH_EVENT_VALUE_MAX 1024  //  bytes of a state value an event carries

typedef struct {
    zmesh_event_type_t type;
    char id [33];
    char name [64];
    char endpoint [256];
    char from [8];   //  previous state ("none" for a new node)
    char to [8];     //  new state ("none" when forgotten); "" for state events
    char key [256];  //  state events: the key ("" for DROP)
    uint8_t value [ZMESH_EVENT_VALUE_MAX];  //  STATE_SET: the value (its first bytes)
    size_t value_size;                      //  its full size (more than copied: truncated)
} zmesh_event_t;

//  Wait up to timeout_ms (-1: forever) for the next membership event. ZMESH_ETIMEOUT if none.
int zmesh_node_event_recv (zmesh_node_t *self, zmesh_event_t *event, int timeout_ms);
//  The libzmq socket the events arrive on, for zmq_poll in a service's own loop; then call
//  zmesh_node_event_recv with timeout 0.
void *zmesh_node_event_socket (zmesh_node_t *self);

//  ---------------------------------------------------------------------------------------------
//  Node state: every node owns a small key/value map that reaches every other node by gossip
//  (anti-entropy; docs/protocol.md). Keys: 1..64 printable ASCII bytes, not starting with
//  "zmesh." (reserved); values: up to 1024 bytes; up to 256 keys and 16 KiB per node. Changes
//  anywhere arrive as ZMESH_EVENT_STATE_* events.

//  Set a key of this node. ZMESH_ETOOBIG (key or value too large), ZMESH_ELIMIT (too many
//  keys or bytes), ZMESH_EINVAL (bad or reserved key), ZMESH_ESTATE (node not running).
int zmesh_node_state_set (zmesh_node_t *self, const char *key, const void *value, size_t size);
int zmesh_node_state_delete (zmesh_node_t *self, const char *key);
//  Read a key of any node (owner: its id in hex; NULL for this node). Copies at most
//  capacity bytes into value and sets *size to the full size. ZMESH_ENOTFOUND if unknown.
int zmesh_node_state_get (zmesh_node_t *self,
                          const char *owner,
                          const char *key,
                          void *value,
                          size_t capacity,
                          size_t *size);

//  ---------------------------------------------------------------------------------------------
//  Work: tasks placed on the best node, run by a handler, and their one result returned to
//  the node that submitted them (its owner). docs/work.md tells the whole story.

//  Task handlers run on the worker's executor threads (worker/slots of them), one task each
//  at a time: a handler must be thread-safe. It reads its input with zmesh_task_payload,
//  sets its output (zmesh_task_output) and returns 0, or returns non-zero after
//  zmesh_task_error (a handler error: the task fails, and is not retried unless asked).
typedef struct _zmesh_task_t zmesh_task_t;
typedef int (zmesh_handler_fn) (zmesh_task_t *task, void *arg);

//  Register a handler under a name (1..63 bytes of printable ASCII, 0x20..0x7e, as on the
//  wire) before zmesh_node_start; it is offered to the mesh in the node's work information.
//  Built-ins: "echo" (output = payload), "sleep" (payload: milliseconds as text; checkpoints
//  its progress) and, only when worker/exec_allow lists commands, "exec"; registering one of
//  their names replaces the built-in. ZMESH_ESTATE once started, ZMESH_ELIMIT if the table is
//  full, ZMESH_EINVAL for a bad name or one registered already.
int zmesh_node_handler (zmesh_node_t *self, const char *name, zmesh_handler_fn *fn, void *arg);

//  In a handler: the task's input, and where it resumes from (the latest checkpoint the
//  owner holds, NULL on a first run). Valid during the call.
const void *zmesh_task_payload (zmesh_task_t *task, size_t *size);
const void *zmesh_task_resume (zmesh_task_t *task, size_t *size);
//  The task id (32 hex), its attempt (1 on the first run), its time limit in ms (0: none).
const char *zmesh_task_id (zmesh_task_t *task);
uint32_t zmesh_task_attempt (zmesh_task_t *task);
uint32_t zmesh_task_timeout_ms (zmesh_task_t *task);
//  Set the output (copied; up to 1 MiB; the last call wins).
int zmesh_task_output (zmesh_task_t *task, const void *data, size_t size);
//  Describe the handler's error (printf-style; up to 255 bytes kept).
int zmesh_task_error (zmesh_task_t *task, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
//  Save progress (copied; up to 1 MiB): it goes to the owner, and an attempt that replaces
//  this one (the node died) starts from it. Cheap to call often: the latest one is sent.
int zmesh_task_checkpoint (zmesh_task_t *task, const void *data, size_t size);
//  True once the owner no longer needs the result (it came from elsewhere): stop early.
bool zmesh_task_cancelled (zmesh_task_t *task);

typedef enum {
    ZMESH_LOW = 0,
    ZMESH_NORMAL = 1,
    ZMESH_HIGH = 2,
    ZMESH_CRITICAL = 3
} zmesh_task_priority_t;

//  What to run. zmesh_task_spec_init sets the defaults; set handler and payload at least.
typedef struct {
    const char *handler;  //  the handler's name
    const void *payload;  //  input bytes (copied at submit), up to 1 MiB
    size_t payload_size;
    int priority;             //  zmesh_task_priority_t; default NORMAL
    uint32_t cpu_millicores;  //  CPU it needs, 1000 = one core; default 0
    uint64_t memory_bytes;    //  memory it needs; default 0
    uint32_t gpus;            //  GPUs it needs; default 0
    const char *const *tags;  //  capabilities a node must offer (worker/tags)
    size_t tag_count;         //  up to 16
    uint32_t timeout_ms;      //  handler time limit; default 0 (none)
    int max_retries;          //  re-dispatches after system failures; -1: balancer/max_retries
    uint32_t redundancy;      //  run on this many nodes, a quorum of equal results wins; 1
    bool idempotent;          //  safe to run again if lost while running; default true
    bool retry_on_error;      //  retry after a handler error too; default false
    const char *strategy;     //  "score" (default), "auction", "hash", "local"; NULL default
    const void *affinity;     //  key for "hash" (same key, same nodes); NULL: the task id
    size_t affinity_size;     //  up to 64
    uint64_t user;            //  yours: comes back in the result
} zmesh_task_spec_t;

void zmesh_task_spec_init (zmesh_task_spec_t *spec);

//  The one result of a task.
typedef struct {
    char task_id [33];
    char task_type [64];          //  the handler
    char selected_node [33];      //  the node placement chose first
    char cost_optimal_node [33];  //  the node a full scan of the mesh would have chosen
    char dispatched_to [33];      //  the node whose result this is ("" if none)
    char circuit_state [12];      //  that node's breaker: "CLOSED", "OPEN", "HALF_OPEN"
    bool success;
    char status [16];  //  "ok", "handler_error", "timeout", "refused", ...
    char error [256];  //  "" on success
    uint8_t *output;   //  the handler's output (owned by the result)
    size_t output_size;
    uint64_t latency_ms;     //  submit to result
    uint32_t attempts;       //  dispatches, redundant replicas included
    uint32_t disagreements;  //  replicas outvoted by the quorum
    uint64_t user;           //  as submitted
} zmesh_task_result_t;

void zmesh_task_result_destroy (zmesh_task_result_t **self_p);

//  Submit without waiting: the id (32 hex + NUL) is written to task_id if not NULL. Blocks
//  at most timeout_ms (-1: forever) while the node already owns balancer/max_tasks tasks
//  (ZMESH_ETIMEOUT then). ZMESH_EINVAL for a bad spec, ZMESH_ESTATE if the node runs no
//  balancer.
int zmesh_node_submit_async (zmesh_node_t *self,
                             const zmesh_task_spec_t *spec,
                             char *task_id,
                             int timeout_ms);
//  The next result of a task this caller submitted, in completion order. ZMESH_ETIMEOUT if
//  none came within timeout_ms (-1: forever).
int zmesh_node_result_recv (zmesh_node_t *self, zmesh_task_result_t **result, int timeout_ms);
//  Submit and wait for that task's result (other results that arrive meanwhile are kept for
//  zmesh_node_result_recv).
int zmesh_node_submit (zmesh_node_t *self,
                       const zmesh_task_spec_t *spec,
                       zmesh_task_result_t **result,
                       int timeout_ms);

//  For tests of supervision: make one actor ("gossip", "health", "beacon", "control") return as if it
//  had crashed; the supervisor restarts it with back-off.
int zmesh_node_fault (zmesh_node_t *self, const char *actor);

#ifdef __cplusplus
}
#endif
#endif
