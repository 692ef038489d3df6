/*  zmesh_task.h: the work plane's wire format (issue 4): tasks going from their owner to a
    worker, results and leases coming back, steals between workers, and the `zmesh.work` value
    each node publishes in its gossip state. docs/protocol.md section 7.7 is the normative
    text, with every body's layout.

    Envelope. A work-plane message is an ordinary zmesh envelope of type TASK (8):

        [ version: uint (= 1), type: uint (= 8), sender: bin 16, body: array ]
        body = [ kind: uint, load: array, ...by kind... ]

        SUBMIT, STOLEN           [ kind, load, [ task, ... ] ]
        RESULT                   [ kind, load, [ result, ... ] ]
        LEASE, CANCEL            [ kind, load, [ ref, ... ] ]
        MOVED                    [ 4, load, thief: bin 16, [ ref, ... ] ]
        STEAL                    [ 5, load, max: uint ]
        CHECKPOINT               [ 8, load, ref, checkpoint: bin ]
        load    [ slots: uint, busy: uint, queued: uint, stealable: uint ]
        task    [ id: bin 16, owner: bin 16, attempt: uint, priority: uint, flags: uint,
                  timeout_ms: uint, cpu_millicores: uint, memory_bytes: uint, gpus: uint,
                  handler: str, payload: bin, checkpoint: bin | nil ]
        result  [ id: bin 16, attempt: uint, status: uint, output: bin, error: str,
                  queued_us: uint, run_us: uint ]
        ref     [ id: bin 16, attempt: uint, running: bool ]

    The writer packs an item array as array 32 (0xdd and a 4-byte big-endian count), patched
    by finish; readers take any array form.

    but it travels on the work plane's own sockets (not gossip's), whose size limit is
    ZMESH_TASK_MSG_MAX rather than ZMESH_MSG_SIZE_MAX: a batch of tasks can be large. The
    writer below produces the whole envelope in one pass, so the hot path copies each payload
    once; zmesh_task_envelope_decode checks the envelope and then decodes the body.

    Batches. One message carries up to ZMESH_TASK_BATCH_MAX items of one kind. The writer
    appends items one at a time and patches the count at the end, so a sender can fill a
    message until it is full (ZMESH_ETOOBIG from an append leaves the message as it was before
    that append) and send it.

    Decoding is strict like every zmesh decoder: each field's type and range is checked,
    unknown kinds are ZMESH_ETYPE, anything malformed ZMESH_EPROTO, and extra trailing
    elements in an array are skipped (forward compatibility). A decoded item points into the
    input for its bytes (payload, output, checkpoint, error text): valid while the input is.
    Strings that are copied (handler, tags, endpoints) are printable ASCII (0x20..0x7e).
*/
#ifndef ZMESH_TASK_H_INCLUDED
#define ZMESH_TASK_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZMESH_MSG_TASK 8  //  envelope type of the work plane

#define ZMESH_TASK_HANDLER_MAX  64                    //  bytes of a handler name, NUL included
#define ZMESH_TASK_PAYLOAD_MAX  (1024u * 1024u)       //  bytes of a payload or an output
#define ZMESH_TASK_ERROR_MAX    256                   //  bytes of an error text (not NUL'd)
#define ZMESH_TASK_BATCH_MAX    512                   //  items of one message
#define ZMESH_TASK_MSG_MAX      (4u * 1024u * 1024u)  //  bytes of one work-plane envelope
#define ZMESH_TASK_TAG_MAX      32                    //  bytes of a capability tag, NUL included
#define ZMESH_TASK_TAGS_MAX     16                    //  tags of one task or one node
#define ZMESH_TASK_ATTEMPTS_MAX 1000                  //  a task's attempts, retries included

//  Message kinds (body element 0).
typedef enum {
    ZMESH_TASK_KIND_SUBMIT = 1,      //  owner -> worker: run these tasks
    ZMESH_TASK_KIND_RESULT = 2,      //  worker -> owner: these ended
    ZMESH_TASK_KIND_LEASE = 3,       //  worker -> owner: I still hold these (queued or running)
    ZMESH_TASK_KIND_MOVED = 4,       //  victim -> owner: these went to `thief` by a steal
    ZMESH_TASK_KIND_STEAL = 5,       //  thief -> victim: give me up to `max` queued tasks
    ZMESH_TASK_KIND_STOLEN = 6,      //  victim -> thief: here they are (each with its owner)
    ZMESH_TASK_KIND_CANCEL = 7,      //  owner -> worker: drop these if not started
    ZMESH_TASK_KIND_CHECKPOINT = 8,  //  worker -> owner: the latest checkpoint of a task
    ZMESH_TASK_KIND_CALL = 9,        //  owner -> worker: bid for tasks like this (auction)
    ZMESH_TASK_KIND_BID = 10,        //  worker -> owner: its bid for a CALL
    ZMESH_TASK_KIND_MAX = 10
} zmesh_task_kind_t;

//  Task flags.
#define ZMESH_TASK_FLAG_IDEMPOTENT 0x01  //  safe to run more than once (may be re-run freely)

//  How a task ended at a worker (RESULT item `status`).
typedef enum {
    ZMESH_TASK_OK = 0,             //  the handler returned output
    ZMESH_TASK_HANDLER_ERROR = 1,  //  the handler reported an error (error text set)
    ZMESH_TASK_NO_HANDLER = 2,     //  this worker has no handler of that name
    ZMESH_TASK_TIMEOUT = 3,        //  the handler ran past the task's timeout
    ZMESH_TASK_REFUSED = 4,        //  not taken: queue full, or the worker is stopping
    ZMESH_TASK_CANCELLED = 5,      //  cancelled by its owner before it started
    ZMESH_TASK_STATUS_MAX = 5
} zmesh_task_status_t;

//  The wire's rules for names: a handler is 1..63 bytes of printable ASCII (0x20..0x7e); a
//  capability tag 1..31 bytes of [A-Za-z0-9._:-]. size: the bytes of name (no NUL among them).
bool zmesh_task_handler_valid (const char *name, size_t size);
bool zmesh_task_tag_valid (const char *tag, size_t size);

//  "ok", "handler_error", ...; "?" out of range.
const char *zmesh_task_status_name (int status);

//  A worker's load, carried by every message a worker sends (element 1 of the body; owners
//  and thieves send it too, with their own worker's figures, or all zero if they run none).
typedef struct {
    uint32_t slots;      //  executor slots
    uint32_t busy;       //  slots running a task
    uint32_t queued;     //  tasks waiting
    uint32_t stealable;  //  of which a steal could take now
} zmesh_task_load_t;

//  One task as it travels (SUBMIT, STOLEN). The views point into the decoded input.
typedef struct {
    zmesh_id_t id;            //  128-bit, chosen by the owner, unique
    zmesh_id_t owner;         //  the owner's node id (SUBMIT: must be the envelope's sender)
    uint32_t attempt;         //  1 for the first dispatch, +1 for each re-dispatch
    uint8_t priority;         //  zmesh_priority_t (zmesh_taskq.h), 0..3
    uint8_t flags;            //  ZMESH_TASK_FLAG_*
    uint32_t timeout_ms;      //  the handler's time limit; 0 = none
    uint32_t cpu_millicores;  //  CPU demand, 1000 = one core
    uint64_t memory_bytes;    //  memory demand
    uint32_t gpus;            //  GPUs needed
    char handler [ZMESH_TASK_HANDLER_MAX];  //  1..63 printable ASCII bytes (0x20..0x7e)
    const uint8_t *payload;                 //  0..ZMESH_TASK_PAYLOAD_MAX bytes
    uint32_t payload_size;
    const uint8_t *checkpoint;  //  the latest checkpoint to resume from; NULL if none
    uint32_t checkpoint_size;   //  0..ZMESH_TASK_PAYLOAD_MAX
} zmesh_task_item_t;

//  One result (RESULT).
typedef struct {
    zmesh_id_t id;
    uint32_t attempt;
    uint8_t status;         //  zmesh_task_status_t
    const uint8_t *output;  //  the handler's output (OK), 0..ZMESH_TASK_PAYLOAD_MAX bytes
    uint32_t output_size;
    const char *error;  //  error text (not NUL-terminated), 0..ZMESH_TASK_ERROR_MAX-1
    uint32_t error_size;
    uint64_t queued_us;  //  time it waited in the worker's queue
    uint64_t run_us;     //  time the handler ran
} zmesh_task_result_item_t;

//  A reference to one attempt of a task (LEASE, MOVED, CANCEL, CHECKPOINT).
typedef struct {
    zmesh_id_t id;
    uint32_t attempt;  //  1..ZMESH_TASK_ATTEMPTS_MAX
    bool running;      //  LEASE: the attempt has started (else it is queued); false elsewhere
} zmesh_task_ref_t;

//  A call for bids (CALL): what the tasks to place are like. perf_best_us: the owner's best
//  known run time of the handler on any node (0: none), for the bid's performance term.
typedef struct {
    uint32_t id;  //  the owner's number for this call; the BID names it
    char handler [ZMESH_TASK_HANDLER_MAX];
    uint32_t cpu_millicores;
    uint64_t memory_bytes;
    uint32_t gpus;
    uint32_t tag_count;  //  0..ZMESH_TASK_TAGS_MAX capabilities required
    char tags [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_TAG_MAX];
    uint64_t perf_best_us;
} zmesh_task_call_t;

//  A bid (BID): able false says the worker cannot take such tasks (permille then 0).
typedef struct {
    uint32_t call_id;
    bool able;
    uint32_t permille;  //  the bid, 0..1000
} zmesh_task_bid_t;

//  A decoded body. Only the fields of its kind are set; `count` items of the kind's array.
typedef struct {
    uint8_t kind;                    //  zmesh_task_kind_t
    zmesh_task_load_t load;          //  the sender's worker load
    uint32_t count;                  //  items in tasks / results / refs
    zmesh_id_t thief;                //  MOVED: where the tasks went
    uint32_t max;                    //  STEAL: tasks wanted at most (1..ZMESH_TASK_BATCH_MAX)
    zmesh_task_ref_t checkpoint_of;  //  CHECKPOINT: which attempt
    const uint8_t *checkpoint;       //  CHECKPOINT: its bytes (0..ZMESH_TASK_PAYLOAD_MAX)
    uint32_t checkpoint_size;
    zmesh_task_call_t call;  //  CALL
    zmesh_task_bid_t bid;    //  BID
    union {
        zmesh_task_item_t tasks [ZMESH_TASK_BATCH_MAX];           //  SUBMIT, STOLEN
        zmesh_task_result_item_t results [ZMESH_TASK_BATCH_MAX];  //  RESULT
        zmesh_task_ref_t refs [ZMESH_TASK_BATCH_MAX];             //  LEASE, MOVED, CANCEL
    } u;
} zmesh_task_msg_t;

//  Decode a whole envelope of type TASK from exactly size bytes (at most ZMESH_TASK_MSG_MAX):
//  *sender (if not NULL) gets the envelope's sender, *msg the body. ZMESH_EVERSION for another
//  version, ZMESH_ETYPE for another envelope type or an unknown kind, ZMESH_ETOOBIG beyond
//  ZMESH_TASK_MSG_MAX, ZMESH_EPROTO for anything malformed (including a SUBMIT item whose
//  owner is not the sender). msg is large (about 80 KiB): keep one per thread, not on the
//  stack.
int zmesh_task_envelope_decode (zmesh_task_msg_t *msg,
                                zmesh_id_t *sender,
                                const uint8_t *data,
                                size_t size);

//  Writer: builds one envelope in a caller's buffer. begin, then append items of the kind
//  begun (an item of another kind is ZMESH_EINVAL), then finish. A full buffer makes the
//  append return ZMESH_ETOOBIG and leaves the message as before it (send what is there, begin
//  again); so does the ZMESH_TASK_BATCH_MAX-th + 1 item (ZMESH_ELIMIT). An item with values
//  the wire does not allow (handler empty or too long or not printable, a payload too large,
//  a status or priority out of range, attempt 0 or above ZMESH_TASK_ATTEMPTS_MAX, an error
//  text too long or holding a NUL, a SUBMIT task whose owner is not the sender) is
//  ZMESH_EINVAL and not appended.
typedef struct {
    uint8_t *buf;
    size_t capacity;  //  usable bytes: at most ZMESH_TASK_MSG_MAX
    size_t size;      //  bytes written so far
    size_t count_at;  //  offset of the 4-byte item count (array 32) to patch at finish
    uint32_t count;   //  items appended
    uint8_t kind;
} zmesh_task_writer_t;

//  Begin a message of a kind whose items are tasks, results or refs (SUBMIT, STOLEN, RESULT,
//  LEASE, CANCEL): the envelope, the kind and the load are written (load NULL: all zero).
//  capacity should be at least 128 bytes; beyond ZMESH_TASK_MSG_MAX it is not used.
//  ZMESH_EINVAL for another kind (or buf or sender NULL), ZMESH_ETOOBIG if even that does
//  not fit. After a failed begin, appends and finish return ZMESH_EINVAL.
int zmesh_task_writer_begin (zmesh_task_writer_t *self,
                             uint8_t *buf,
                             size_t capacity,
                             const zmesh_id_t *sender,
                             uint8_t kind,
                             const zmesh_task_load_t *load);
//  MOVED: begin with the thief's id (then append refs).
int zmesh_task_writer_begin_moved (zmesh_task_writer_t *self,
                                   uint8_t *buf,
                                   size_t capacity,
                                   const zmesh_id_t *sender,
                                   const zmesh_task_load_t *load,
                                   const zmesh_id_t *thief);
int zmesh_task_writer_add_task (zmesh_task_writer_t *self, const zmesh_task_item_t *task);
int zmesh_task_writer_add_result (zmesh_task_writer_t *self,
                                  const zmesh_task_result_item_t *result);
int zmesh_task_writer_add_ref (zmesh_task_writer_t *self, const zmesh_task_ref_t *ref);
//  Patch the count; *size the envelope's length. A message with no items is valid. Appends may
//  go on after a finish (finish again to send the longer message).
int zmesh_task_writer_finish (zmesh_task_writer_t *self, size_t *size);

//  Whole small messages in one call (load NULL: all zero). STEAL: max 1..ZMESH_TASK_BATCH_MAX.
//  CHECKPOINT: checkpoint may be NULL when checkpoint_size is 0. ZMESH_EINVAL for values the
//  wire does not allow, ZMESH_ETOOBIG if the message does not fit.
int zmesh_task_encode_steal (uint8_t *buf,
                             size_t capacity,
                             const zmesh_id_t *sender,
                             const zmesh_task_load_t *load,
                             uint32_t max,
                             size_t *size);
int zmesh_task_encode_checkpoint (uint8_t *buf,
                                  size_t capacity,
                                  const zmesh_id_t *sender,
                                  const zmesh_task_load_t *load,
                                  const zmesh_task_ref_t *ref,
                                  const uint8_t *checkpoint,
                                  uint32_t checkpoint_size,
                                  size_t *size);
//  CALL: a handler and tags as the wire allows them. BID: permille up to 1000, and 0 when not
//  able.
int zmesh_task_encode_call (uint8_t *buf,
                            size_t capacity,
                            const zmesh_id_t *sender,
                            const zmesh_task_load_t *load,
                            const zmesh_task_call_t *call,
                            size_t *size);
int zmesh_task_encode_bid (uint8_t *buf,
                           size_t capacity,
                           const zmesh_id_t *sender,
                           const zmesh_task_load_t *load,
                           const zmesh_task_bid_t *bid,
                           size_t *size);

//  ---------------------------------------------------------------------------------------------
//  The `zmesh.work` value of a node's gossip state: where its work plane listens and what it
//  offers. Published by the worker when it starts and when its tags, slots or (coarsely,
//  at most once a second) load change.

#define ZMESH_WORK_STATE_KEY "zmesh.work"

typedef struct {
    char worker_endpoint [ZMESH_ENDPOINT_MAX];  //  tcp: where its worker takes SUBMIT, STEAL
    uint32_t tag_count;                         //  0..ZMESH_TASK_TAGS_MAX
    char tags [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_TAG_MAX];  //  capabilities, e.g. "gpu", "ssd"
    uint32_t handler_count;  //  0..ZMESH_TASK_TAGS_MAX handlers it has (names, as tags)
    char handlers [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_HANDLER_MAX];
    zmesh_task_load_t load;  //  when published
    uint32_t cost_permille;  //  the operator's cost weight of the node, 0..1000 (worker/cost)
} zmesh_work_info_t;

//  Encode / strictly decode the value, a msgpack array:
//      [ worker_endpoint: str, tags: [ str, ... ], handlers: [ str, ... ], load ]
//  The endpoint is checked with zmesh_endpoint_check (a connect endpoint, required); tags
//  are 1..31 bytes of [A-Za-z0-9._:-]; handlers are names as in a task. Encode: ZMESH_EINVAL
//  for values the wire does not allow, ZMESH_ETOOBIG if buf is too small (the longest value
//  takes ZMESH_WORK_INFO_SIZE_MAX bytes). Decode: ZMESH_EPROTO for anything malformed.
#define ZMESH_WORK_INFO_SIZE_MAX 1840

int
zmesh_work_info_encode (const zmesh_work_info_t *info, uint8_t *buf, size_t capacity, size_t *size);
int zmesh_work_info_decode (zmesh_work_info_t *info, const uint8_t *data, size_t size);

//  ---------------------------------------------------------------------------------------------
//  The `zmesh.scale` value of a node's gossip state: the figures of its scaling decision, from
//  which every node computes the mesh-wide one. Published by the balancer at most once per
//  scale/interval_ms, when they changed.

#define ZMESH_SCALE_STATE_KEY "zmesh.scale"

typedef struct {
    uint32_t queue_depth;  //  tasks waiting there: not placed yet, plus its worker's queue
    uint32_t latency_ms;   //  moving average of its tasks' latency, submit to result
} zmesh_scale_info_t;

//  Encode / strictly decode the value, a msgpack array [ queue_depth: uint, latency_ms: uint ]
//  (32-bit unsigned; later versions may append elements, which are skipped). Encode:
//  ZMESH_ETOOBIG if buf is too small (ZMESH_SCALE_INFO_SIZE_MAX bytes always do). Decode:
//  ZMESH_EPROTO for anything malformed.
#define ZMESH_SCALE_INFO_SIZE_MAX 11

int zmesh_scale_info_encode (const zmesh_scale_info_t *info,
                             uint8_t *buf,
                             size_t capacity,
                             size_t *size);
int zmesh_scale_info_decode (zmesh_scale_info_t *info, const uint8_t *data, size_t size);

#endif
