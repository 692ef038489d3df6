/*  zmesh_owner_internal.h: what zmesh_owner.c (configuration, tables, life cycle, the public
    face), zmesh_owner_place.c (pending and parked tasks, placing) and zmesh_owner_attempt.c
    (attempts, failures, results, the quorum) share. Not for the shell: use zmesh_owner.h.
*/
#ifndef ZMESH_OWNER_INTERNAL_H_INCLUDED
#define ZMESH_OWNER_INTERNAL_H_INCLUDED

#include "zmesh_owner.h"

#define OWNER_NONE            UINT32_MAX
#define OWNER_LOOKAHEAD_SCAN  256  //  pending tasks a pass looks at past the first that waits
#define OWNER_LOOKAHEAD_TRIES 8    //  tasks a pass tries in vain at most
#define OWNER_FAILED_MAX      8    //  nodes a task failed on that its next attempts avoid

typedef enum {
    OWNER_REPLICA_WAIT = 0,  //  to be placed (the task is pending or parked)
    OWNER_REPLICA_BACKOFF,   //  failed, waiting for its back-off to end
    OWNER_REPLICA_OPEN,      //  an attempt is open on a worker
    OWNER_REPLICA_DONE,      //  has a result (redundant tasks), or given up
} owner_replica_state_t;

typedef struct owner_task_s owner_task_t;
typedef struct owner_replica_s owner_replica_t;

struct owner_replica_s {
    owner_task_t *task;
    uint8_t state;
    bool running;            //  the last lease said it runs
    bool has_result;         //  DONE with a result (else given up); redundant tasks only
    bool trial;              //  its open attempt holds a HALF_OPEN trial slot of trial_on
    uint8_t status;          //  of that result
    uint32_t node;           //  node slot while OWNER_REPLICA_OPEN, else OWNER_NONE
    uint32_t attempt;        //  the open (or last) attempt
    uint64_t listed_ms;      //  last time a lease listed it (or it was sent or moved)
    uint64_t due_ms;         //  OWNER_REPLICA_BACKOFF: when it may go again
    zmesh_id_t result_from;  //  has_result: the node that produced it
    zmesh_id_t trial_on;     //  trial: the node whose breaker gave the slot
    uint8_t digest [ZMESH_OWNER_DIGEST_SIZE];
    uint8_t *output;  //  redundant tasks: this replica's output until a quorum
    uint32_t output_size;
    owner_replica_t *prev, *next;  //  in its node's open list, or in the back-off list
};

struct owner_task_s {
    zmesh_owner_task_t spec;  //  payload points at `payload` below
    uint8_t *payload;
    uint8_t *checkpoint;
    uint32_t checkpoint_size;
    uint64_t submitted_ms;
    uint64_t parked_ms;   //  when it was parked (while parked)
    uint64_t enqueue_ms;  //  when it joined its pending list (while pending)
    uint64_t seq;         //  enqueue order (while pending)
    uint64_t kind;        //  hash of what choose looks at besides the id (never 0)
    uint32_t attempts;    //  dispatches so far, all replicas
    uint32_t retries;     //  re-dispatches so far
    bool placed_once;
    bool pending;  //  in a pending list
    bool parked;   //  in the park list
    zmesh_id_t selected;
    zmesh_id_t optimal;
    uint8_t last_status;
    char last_error [ZMESH_TASK_ERROR_MAX];
    zmesh_id_t failed [OWNER_FAILED_MAX];  //  distinct nodes it failed on lately, oldest first
    uint32_t failed_count;
    owner_replica_t replicas [ZMESH_OWNER_REDUNDANCY_MAX];
    owner_task_t *hash_next;              //  bucket chain
    owner_task_t *wait_prev, *wait_next;  //  in its pending list or in the park list
};

typedef struct {
    zmesh_id_t id;
    bool used;
    bool down;               //  membership said dead or left
    bool expired;            //  its lease expired
    uint32_t in_flight;      //  open attempts
    uint64_t heard_ms;       //  last message from it (or when its first open attempt went)
    uint64_t lost_until_ms;  //  down or expired: no new attempts before this, unless heard
    uint32_t losses;         //  times lost since it was last heard (the shut-out doubles)
    bool probation;          //  shut out and not heard since: one attempt at a time
    owner_replica_t *open;   //  its open attempts (doubly linked)
} owner_node_t;

struct zmesh_owner_s {
    zmesh_owner_config_t config;
    zmesh_owner_callbacks_t cb;
    uint64_t rng;
    uint64_t now_ms;
    //  tasks by id
    owner_task_t **buckets;
    uint32_t bucket_mask;
    uint32_t owned;
    //  nodes by id (open addressing, never shrinks; nodes are few)
    owner_node_t *nodes;
    uint32_t node_mask;
    uint32_t node_count;
    //  pending: one list per priority; parked: one list, in the order they were parked
    owner_task_t *pend_head [ZMESH_PRIORITY_COUNT], *pend_tail [ZMESH_PRIORITY_COUNT];
    uint32_t pend_count;
    uint64_t pend_seq;  //  starts high: a retry pushed in front takes the head's seq - 1
    owner_task_t *park_head, *park_tail;
    uint32_t parked;
    uint64_t park_retry_ms;  //  next try of the parked tasks (or the first one's timeout)
    //  back-off
    owner_replica_t *backoff;
    uint32_t backoff_count;
    uint64_t backoff_due_ms;  //  earliest due, or UINT64_MAX (may be early, never late)
    uint64_t scan_ms;         //  next scan for attempts no lease lists
    bool draining;
    zmesh_breaker_t breaker;
    zmesh_owner_stats_t stats;
};

//  ---------------------------------------------------------------------------------------------
//  Small helpers, inline in each file.

static inline owner_task_t **
zmesh_owner__bucket (zmesh_owner_t *self, const zmesh_id_t *id)
{
    return &self->buckets [zmesh_id_hash (id) & self->bucket_mask];
}

static inline uint32_t
zmesh_owner__node_slot (const zmesh_owner_t *self, const owner_node_t *node)
{
    return (uint32_t) (node - self->nodes);
}

//  ---------------------------------------------------------------------------------------------
//  Tables and life cycle (zmesh_owner.c).

//  The node's slot, added if new; NULL if memory is short.
owner_node_t *zmesh_owner__node_get (zmesh_owner_t *self, const zmesh_id_t *id);

//  Free a task and what it holds (it is in no table or list any more).
void zmesh_owner__task_free (owner_task_t *task);

//  ---------------------------------------------------------------------------------------------
//  Pending and parked tasks, placing (zmesh_owner_place.c).

//  The task joins the end of its pending list.
void zmesh_owner__pend_push (zmesh_owner_t *self, owner_task_t *task);

//  A retry joins the front of its pending list, in the head's place in the aging order.
void zmesh_owner__pend_push_front (zmesh_owner_t *self, owner_task_t *task);

//  The task leaves its pending list.
void zmesh_owner__pend_remove (zmesh_owner_t *self, owner_task_t *task);

//  The task leaves the park list.
void zmesh_owner__unpark (zmesh_owner_t *self, owner_task_t *task);

//  Place the parked tasks (when parked_too), then the pending ones in order.
void zmesh_owner__drain (zmesh_owner_t *self, bool parked_too);

//  ---------------------------------------------------------------------------------------------
//  Attempts, failures and results (zmesh_owner_attempt.c).

//  Replica r's attempt is open on node now.
void zmesh_owner__open_link (zmesh_owner_t *self, owner_node_t *node, owner_replica_t *r);

//  Replica r's attempt is closed (r is OWNER_REPLICA_DONE until the caller says what follows).
void zmesh_owner__open_unlink (zmesh_owner_t *self, owner_replica_t *r);

//  Replica r leaves the back-off list (OWNER_REPLICA_DONE until the caller says what follows).
void zmesh_owner__backoff_unlink (zmesh_owner_t *self, owner_replica_t *r);

//  The attempt of r ends: a HALF_OPEN trial slot it held goes back unless its outcome is
//  recorded on that node (recorded_on).
void
zmesh_owner__trial_release (zmesh_owner_t *self, owner_replica_t *r, const zmesh_id_t *recorded_on);

//  The open attempt of r is not needed any more: cancel it (best effort) and close it.
void zmesh_owner__attempt_drop (zmesh_owner_t *self, owner_replica_t *r);

//  The open attempt of r is on `to` now (a steal moved it).
void zmesh_owner__attempt_move (zmesh_owner_t *self, owner_replica_t *r, owner_node_t *to);

//  Deliver the one result and forget the task (freed).
void zmesh_owner__finish (zmesh_owner_t *self,
                          owner_task_t *task,
                          const zmesh_id_t *winner_node,
                          bool success,
                          uint8_t status,
                          const char *error,
                          const uint8_t *output,
                          uint32_t output_size,
                          uint32_t disagreements,
                          const zmesh_task_result_item_t *item);

//  Replica r's attempt failed (on node; NULL: the node is not to blame): retry it or give it
//  up. True if that finished (and freed) the task.
bool zmesh_owner__replica_failed (zmesh_owner_t *self,
                                  owner_replica_t *r,
                                  const zmesh_id_t *node,
                                  uint8_t status,
                                  const char *error);

//  The attempt open on r was lost with its worker. True if that finished the task.
bool zmesh_owner__lost (zmesh_owner_t *self, owner_replica_t *r, const char *why);

//  The replica a RESULT is for, or NULL; *late: an earlier attempt's answer.
owner_replica_t *zmesh_owner__result_replica (owner_task_t *task,
                                              const zmesh_task_result_item_t *result,
                                              bool *late);

//  Did node give a result for another replica of task already?
bool zmesh_owner__answered_on (const owner_task_t *task, const zmesh_id_t *node);

//  A redundant replica's result: keep it until a quorum decides.
void zmesh_owner__replica_result (zmesh_owner_t *self,
                                  owner_replica_t *r,
                                  const zmesh_id_t *from,
                                  const zmesh_task_result_item_t *result,
                                  const char *error);

#endif
