/*  zmesh_liveness.h: basic liveness of peers, as a pure state machine.

    The foundation's failure detector (SWIM-style membership replaces it later): every message
    heard from a peer refreshes it; silence past suspect_timeout_ms makes it SUSPECT, past
    dead_timeout_ms DEAD; a LEAVE makes it LEFT at once. A peer heard again after DEAD, or with
    a higher generation (it restarted) after LEFT, is ALIVE again. DEAD and LEFT peers are
    forgotten after reap_after_ms. Each transition is reported exactly once, in the update of
    the step that caused it: never repeated on later ticks.

    Shape (DESIGN.md): init / step (event -> update) / deadline. Events carry the time; the core
    reads no clock, does no I/O, and allocates only at init.
*/
#ifndef ZMESH_LIVENESS_H_INCLUDED
#define ZMESH_LIVENESS_H_INCLUDED

#include "zmesh_ident.h"
#include <stdint.h>

#define ZMESH_LIVENESS_SUSPECT_TIMEOUT_MS_DEFAULT 1500
#define ZMESH_LIVENESS_DEAD_TIMEOUT_MS_DEFAULT    3000
#define ZMESH_LIVENESS_REAP_AFTER_MS_DEFAULT      60000
#define ZMESH_LIVENESS_MAX_PEERS_DEFAULT          1024

typedef enum {
    ZMESH_PEER_NONE = 0,  //  not in the table (before joining, after being forgotten)
    ZMESH_PEER_ALIVE = 1,
    ZMESH_PEER_SUSPECT = 2,
    ZMESH_PEER_DEAD = 3,
    ZMESH_PEER_LEFT = 4
} zmesh_peer_state_t;

typedef struct {
    uint32_t suspect_timeout_ms;  //  silence before SUSPECT
    uint32_t dead_timeout_ms;     //  silence before DEAD; > suspect_timeout_ms
    uint32_t reap_after_ms;       //  time in DEAD or LEFT before the peer is forgotten
    uint32_t max_peers;           //  table capacity; a new peer beyond it is ZMESH_ELIMIT
} zmesh_liveness_config_t;

typedef struct {
    zmesh_id_t id;
    zmesh_peer_state_t state;
    uint64_t generation;      //  the peer's generation as last heard
    uint64_t last_heard_ms;   //  time of the last message from it
    uint64_t state_since_ms;  //  time it entered its current state
} zmesh_liveness_peer_t;

typedef enum {
    ZMESH_LIVENESS_HEARD = 1,  //  any authenticated message from a peer
    ZMESH_LIVENESS_LEAVE = 2,  //  the peer announced it is leaving
    ZMESH_LIVENESS_TICK = 3    //  time passed
} zmesh_liveness_event_type_t;

typedef struct {
    zmesh_liveness_event_type_t type;
    uint64_t now_ms;      //  the time of the event, monotonic
    zmesh_id_t id;        //  HEARD, LEAVE: which peer
    uint64_t generation;  //  HEARD, LEAVE: its generation
} zmesh_liveness_event_t;

typedef struct {
    zmesh_id_t id;
    zmesh_peer_state_t from;  //  NONE for a new peer
    zmesh_peer_state_t to;    //  NONE when it was forgotten
} zmesh_liveness_change_t;

typedef struct {
    int error;                         //  ZMESH_OK, or ZMESH_ELIMIT when the table was full
    uint32_t change_count;             //  transitions this step caused
    zmesh_liveness_change_t *changes;  //  owned by the core, valid until the next step
} zmesh_liveness_update_t;

typedef struct {
    zmesh_liveness_config_t config;
    uint32_t peer_count;
    zmesh_liveness_peer_t *peers;      //  config.max_peers entries, first peer_count used
    zmesh_liveness_change_t *changes;  //  scratch for updates, config.max_peers * 2 entries
} zmesh_liveness_t;

//  Defaults for every field.
void zmesh_liveness_config_defaults (zmesh_liveness_config_t *config);
//  ZMESH_EINVAL for a config whose timeouts are out of order or zero, ZMESH_ENOMEM.
int zmesh_liveness_init (zmesh_liveness_t *self, const zmesh_liveness_config_t *config);
void zmesh_liveness_fini (zmesh_liveness_t *self);
void zmesh_liveness_step (zmesh_liveness_t *self,
                          const zmesh_liveness_event_t *event,
                          zmesh_liveness_update_t *update);
//  When the shell must tick next; UINT64_MAX when nothing is pending.
uint64_t zmesh_liveness_deadline_ms (const zmesh_liveness_t *self);
//  The peer, or NULL. Borrowed, valid until the next step.
const zmesh_liveness_peer_t *zmesh_liveness_find (const zmesh_liveness_t *self,
                                                  const zmesh_id_t *id);
//  "alive", "suspect", "dead", "left", "none".
const char *zmesh_peer_state_name (zmesh_peer_state_t state);

#endif
