/*  zmesh.h: the public API of libzmesh, the only header a service embedding zmesh includes.

    A node is a supervisor composing actors (gossip, beacon, control) in threads of the
    calling process. Typical use:

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

//  For tests of supervision: make one actor ("gossip", "health", "beacon", "control") return as if it
//  had crashed; the supervisor restarts it with back-off.
int zmesh_node_fault (zmesh_node_t *self, const char *actor);

#ifdef __cplusplus
}
#endif
#endif
