/*  zmesh_state.h: node state by anti-entropy (scuttlebutt), as a pure state machine.

    Each node owns one key/value map; every write (a set or a delete) takes the next value of
    the node's version counter, so (generation, version) orders an owner's writes. Every node
    also holds a replica of other owners' maps with, per owner, the generation, the highest
    version it has applied (`version`) and a `floor` (below). Periodically (interval_ms) the
    core starts an exchange with a peer, and at once when the shell asks (EXCHANGE: the gossip
    actor does when a neighbour's zmesh_state_digest differs): push-pull scuttlebutt, after
    van Renesse, Dumitriu, Gough and Thomas, "Efficient Reconciliation and Flow Control for
    Anti-Entropy Protocols" (LADIS 2008), section 3:

        A -> B  SUMMARY quiet (no owner changed here in the last hot_ms): one summary of
                        the whole id space: how many owners A holds and the sum of a 64-bit
                        hash of their (owner, generation, version); when nothing changed, an
                        exchange is this one message of about 50 bytes. Busy: (owner,
                        generation, version, floor) of the "hot" owners, those changed here in
                        the last hot_ms (up to half the budget), then of the others from a
                        cursor that moves on each time, as complete ranges (what A may have
                        missed news of is listed, not summarised: see zmesh_state_summary.c);
                        the rest summarised only if it holds more owners than the listing.
        B -> A  DELTAS  the runs A lacks among the owners A listed (for each owner, B's entries
                        newer than A's version, oldest first) and B's requests (the owners
                        where A is ahead of B); not sent when there is nothing to say;
        B -> A  SUMMARY only if B's own count and hash of a range differ from A's: B narrows
                        it down: B lists its owners of the range (a complete range: an owner
                        it does not list, it does not hold), or, if they do not fit, splits it
                        into up to ZMESH_STATE_SPLIT_WAYS pieces, each summarised by B's own
                        count and hash. A answers that SUMMARY as B answered A's (DELTAS, and a
                        SUMMARY of the pieces that still differ, narrower again), so a
                        difference is found in O(log owners) round trips;
        A -> B  DELTAS  the runs B requested (no requests: that branch of the exchange ends).

    The older DIGEST message (a complete range [lo, hi] plus listed entries) is still accepted:
    it is a SUMMARY whose one range has count 0. Requests are answered with runs only, so
    every branch ends: listed entries and complete ranges end in DELTAS, and a range that
    differs is answered with strictly smaller ranges, or a listing.

    A run is (owner, generation, from, to, held, floor, entries): all of the sender's entries of
    that owner with a version in (from, to], in version order (held: the sender's version).
    Cut short by the byte budget, a run ends at its last entry, so what arrives is always a
    prefix and the receiver may advance its version to `to` (section 3.2: "oldest first").
    Entries merge by version per key, so duplicated, reordered or stale runs are harmless; a
    run that starts after what the receiver holds (from > version) is a gap and is ignored. A
    higher generation of an owner (it restarted) drops its older entries at once, wherever it
    is seen. Changes of the last hot_ms go first in digests (above).

    Deletions are tombstones, versioned like writes. GC rule: a node collects a tombstone
    tombstone_ttl_ms after it applied it (the owner: after writing it), and raises that owner's
    floor to the tombstone's version. Safety condition: a replica must not skip a collected
    tombstone, or the deleted value would live on in it. The floor guarantees it: a replica
    whose max (version, floor) is below a sender's floor may have missed a collected tombstone,
    so the sender sends it a reset run (from 0) and the replica rebuilds that owner's map from
    scratch (a DROP change, then the entries again) and takes the sender's floor. Until its
    version reaches that floor, the replica accepts runs only from senders whose own version or
    floor reaches it too: a sender further behind may still hold a value whose deletion the
    replica has accounted for (the reset skipped it). Collection is therefore safe whatever the
    timing; tombstone_ttl_ms only trades memory against resyncs, and should exceed the time an
    update takes to reach every node plus the longest partition expected (and membership's reap
    time), so that resyncs stay rare: a replica further behind than that is rebuilt.

    Bounds (config, all enforced): keys per owner (tombstones count until collected), key size
    (printable ASCII), value size, bytes per owner (keys + values), owners, peers. A local write
    beyond one fails with ZMESH_ETOOBIG (key or value size) or ZMESH_ELIMIT (counts, bytes). A
    peer's entry that breaks a size bound is dropped and counted. A replica may hold an owner's
    map at no single moment (a stale value of a key the owner overwrote later, a tombstone the
    owner already collected), so replicas get ZMESH_STATE_REPLICA_SLACK times the key and byte
    bounds; a replica that would exceed even that is dropped and fetched again from scratch.

    Summaries hash (owner, generation, version) only: two replicas at the same generation and
    version hold the same entries, whatever their floors (which depend on when each collected
    its tombstones). Owners held at version 0 (a generation seen, nothing of it yet) are left
    out of summaries: a peer has nothing to learn from them, and need not hold them.

    Shape (DESIGN.md): init / step (event -> update) / deadline. Events carry the time; the core
    reads no clock, does no I/O, and draws randomness (the peer to exchange with, the order in
    which owners share a full message) from a PRNG seeded at init. Local writes are events too,
    so every change, local or remote, appears once in the update of the step that applied it.
*/
#ifndef ZMESH_STATE_H_INCLUDED
#define ZMESH_STATE_H_INCLUDED

#include "zmesh_ident.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZMESH_STATE_INTERVAL_MS_DEFAULT      1000
#define ZMESH_STATE_BUDGET_BYTES_DEFAULT     1200
#define ZMESH_STATE_TOMBSTONE_TTL_MS_DEFAULT 60000
#define ZMESH_STATE_FORGET_TTL_MS_DEFAULT    60000
#define ZMESH_STATE_HOT_MS_DEFAULT           5000
#define ZMESH_STATE_MAX_KEYS_DEFAULT         256
#define ZMESH_STATE_KEY_SIZE_DEFAULT         64
#define ZMESH_STATE_VALUE_SIZE_DEFAULT       1024
#define ZMESH_STATE_OWNER_BYTES_DEFAULT      16384
#define ZMESH_STATE_MAX_OWNERS_DEFAULT       4096
#define ZMESH_STATE_MAX_PEERS_DEFAULT        4096
#define ZMESH_STATE_REPLICA_SLACK            2  //  replicas: this times max_keys, owner_bytes
#define ZMESH_STATE_SPLIT_WAYS               8  //  pieces a range that differs is cut into

//  Hard limits of the wire (zmesh_state_codec): a message beyond them does not decode.
#define ZMESH_STATE_MSG_SIZE_MAX      65536  //  bytes of one encoded state message
#define ZMESH_STATE_KEY_SIZE_LIMIT    255    //  bytes of a key
#define ZMESH_STATE_VALUE_SIZE_LIMIT  32768  //  bytes of a value
#define ZMESH_STATE_MSG_DIGEST_MAX    1024   //  digest entries (or requests) in one message
#define ZMESH_STATE_MSG_RUNS_MAX      256    //  runs in one message
#define ZMESH_STATE_MSG_DELTAS_MAX    2048   //  entries in all the runs of one message
#define ZMESH_STATE_MSG_SUMMARIES_MAX 256    //  summaries (ranges) in one message

typedef struct {
    uint32_t interval_ms;       //  time between exchanges this node starts
    uint32_t budget_bytes;      //  most bytes of one encoded message this node sends
    uint32_t tombstone_ttl_ms;  //  a tombstone is collected this long after it was applied
    uint32_t forget_ttl_ms;     //  an owner forgotten (FORGET) is refused for this long
    uint32_t hot_ms;            //  an owner changed this recently is listed in every summary
    uint32_t max_keys;          //  keys per owner, tombstones included
    uint32_t key_size_max;      //  bytes of a key (1..ZMESH_STATE_KEY_SIZE_LIMIT)
    uint32_t value_size_max;    //  bytes of a value (..ZMESH_STATE_VALUE_SIZE_LIMIT)
    uint32_t owner_bytes_max;   //  bytes of keys + values per owner
    uint32_t max_owners;        //  owners held, this node included
    uint32_t max_peers;         //  entries of the peer list
} zmesh_state_config_t;

//  ---------------------------------------------------------------------------------------------
//  Messages, as zmesh_state_codec encodes them. Pointers are borrowed: into the core (for
//  messages it sends: valid until its next step) or into the decoded bytes (for received ones).

typedef enum {
    ZMESH_STATE_MSG_DIGEST = 1,  //  range + digest entries: "this is what I hold" (accepted;
                                 //  no longer sent: a SUMMARY says the same)
    ZMESH_STATE_MSG_DELTAS = 2,  //  requests (as digest entries) + runs
    ZMESH_STATE_MSG_SUMMARY = 3  //  digest entries + summaries of id ranges
} zmesh_state_msg_type_t;

typedef struct {
    zmesh_id_t owner;
    uint64_t generation;  //  the owner's generation the entry is about
    uint64_t version;     //  highest version held (0: nothing)
    uint64_t floor;       //  tombstones up to this version may have been collected
} zmesh_state_digest_entry_t;

//  A range of owners in a SUMMARY: of the owners the sender holds in [lo, hi] at a version
//  above 0 and does not list in the message's digest entries, there are count, and the sum
//  (mod 2^64) of their zmesh_state_tuple_hash is hash. count 0 (hash 0): a complete range,
//  every owner the sender holds in it is listed (those at version 0 when room allows).
typedef struct {
    zmesh_id_t lo;  //  inclusive
    zmesh_id_t hi;  //  inclusive, >= lo
    uint64_t count;
    uint64_t hash;
} zmesh_state_summary_t;

typedef struct {
    const char *key;       //  key_size printable bytes, not NUL-terminated
    const uint8_t *value;  //  value_size bytes; NULL when deleted or empty
    uint32_t key_size;
    uint32_t value_size;
    uint64_t version;  //  strictly increasing within a run, in (from, to]
    bool deleted;      //  a tombstone: no value
} zmesh_state_delta_t;

typedef struct {
    zmesh_id_t owner;
    uint64_t generation;
    uint64_t from_version;  //  the run holds every entry of the sender with a version in
    uint64_t to_version;    //  (from, to]; from <= to
    uint64_t held_version;  //  the sender's version of the owner: >= to (more when cut short)
    uint64_t floor;         //  the sender's floor for this owner
    uint32_t first_delta;   //  index of its first entry in msg->deltas
    uint32_t delta_count;   //  its entries: runs take consecutive slices of msg->deltas
} zmesh_state_run_t;

typedef struct {
    zmesh_state_msg_type_t type;
    zmesh_id_t range_lo;    //  DIGEST: the id range the digest covers (every owner the sender
    zmesh_id_t range_hi;    //  holds in it is listed), inclusive
    uint32_t digest_count;  //  DIGEST, SUMMARY: entries; DELTAS: requests
    const zmesh_state_digest_entry_t *digest;  //  DIGEST, SUMMARY: ascending ids
    uint32_t run_count;                        //  DELTAS
    const zmesh_state_run_t *runs;
    uint32_t delta_count;
    const zmesh_state_delta_t *deltas;
    uint32_t summary_count;  //  SUMMARY: ascending, disjoint ranges
    const zmesh_state_summary_t *summaries;
} zmesh_state_msg_t;

//  ---------------------------------------------------------------------------------------------
//  Events and updates.

typedef enum {
    ZMESH_STATE_TICK = 1,      //  time passed: start an exchange, collect tombstones when due
    ZMESH_STATE_RECEIVED = 2,  //  a decoded state message from peer
    ZMESH_STATE_PEERS = 3,     //  the live peers to exchange with (replaces the list)
    ZMESH_STATE_FORGET = 4,    //  drop owner `peer` (membership reaped it)
    ZMESH_STATE_EXCHANGE = 5,  //  start an exchange with `peer` now (a shell-chosen peer)
    ZMESH_STATE_SET = 6,       //  local write of key = value
    ZMESH_STATE_DELETE = 7     //  local delete of key
} zmesh_state_event_type_t;

typedef struct {
    zmesh_state_event_type_t type;
    uint64_t now_ms;               //  the time of the event, monotonic
    zmesh_id_t peer;               //  RECEIVED: the authenticated sender; EXCHANGE: whom;
                                   //  FORGET: the owner
    uint64_t generation;           //  FORGET: its generation to refuse (0: what is held)
    const zmesh_state_msg_t *msg;  //  RECEIVED: borrowed for the step
    const zmesh_id_t *peers;       //  PEERS: borrowed, copied
    uint32_t peer_count;
    const char *key;    //  SET, DELETE: NUL-terminated
    const void *value;  //  SET: value_size bytes
    uint32_t value_size;
} zmesh_state_event_t;

typedef enum {
    ZMESH_STATE_CHANGE_SET = 1,     //  key now has value (at version)
    ZMESH_STATE_CHANGE_DELETE = 2,  //  key was deleted (it had a value before)
    ZMESH_STATE_CHANGE_DROP = 3     //  every key of the owner is gone (see cause)
} zmesh_state_change_kind_t;

typedef enum {
    ZMESH_STATE_CAUSE_NONE = 0,        //  SET, DELETE
    ZMESH_STATE_CAUSE_GENERATION = 1,  //  the owner restarted: a higher generation
    ZMESH_STATE_CAUSE_FORGOTTEN = 2,   //  FORGET
    ZMESH_STATE_CAUSE_RESYNC = 3,      //  behind a collected tombstone: fetched again
    ZMESH_STATE_CAUSE_OVERFLOW = 4     //  the replica broke its bounds: fetched again
} zmesh_state_cause_t;

typedef struct {
    zmesh_state_change_kind_t kind;
    zmesh_state_cause_t cause;  //  DROP: why
    zmesh_id_t owner;
    uint64_t generation;
    uint64_t version;      //  SET, DELETE: the version of the write
    const char *key;       //  SET, DELETE: NUL-terminated; NULL for DROP
    const uint8_t *value;  //  SET: value_size bytes (NULL if empty)
    uint32_t value_size;
} zmesh_state_change_t;

//  Why an input was dropped: per-step counts in the update, totals in zmesh_state_dropped.
typedef enum {
    ZMESH_STATE_DROP_MALFORMED = 0,   //  a message that breaks the protocol's rules (whole message)
    ZMESH_STATE_DROP_KEY = 1,         //  an entry whose key is too long or not printable
    ZMESH_STATE_DROP_VALUE = 2,       //  an entry whose value is too large
    ZMESH_STATE_DROP_OWNER_KEYS = 3,  //  a replica beyond its key bound (replica dropped)
    ZMESH_STATE_DROP_OWNER_BYTES = 4,  //  a replica beyond its byte bound (replica dropped)
    ZMESH_STATE_DROP_OWNERS = 5,       //  a new owner beyond max_owners (run or request)
    ZMESH_STATE_DROP_FORGOTTEN = 6,    //  a run or digest entry of a forgotten owner
    ZMESH_STATE_DROP_STALE = 7,        //  a run of an older generation or already held
    ZMESH_STATE_DROP_GAP = 8,          //  a run that starts after what this node holds
    ZMESH_STATE_DROP_SELF = 9,         //  a run about this node's own map
    ZMESH_STATE_DROP_PEERS = 10,       //  peers beyond max_peers (PEERS)
    ZMESH_STATE_DROP_BEHIND = 11,      //  a run whose sender may lack deletes this node applied
    ZMESH_STATE_DROP_COUNT = 12
} zmesh_state_drop_t;

typedef struct {
    zmesh_id_t to;  //  destination peer
    zmesh_state_msg_t msg;
} zmesh_state_out_t;

typedef struct {
    int error;           //  ZMESH_OK, or the error of a SET / DELETE / FORGET / PEERS event
    uint32_t msg_count;  //  messages to send (0..2), all to the same peer
    const zmesh_state_out_t *msgs;
    uint32_t change_count;  //  changes applied, in order
    const zmesh_state_change_t *changes;
    uint32_t dropped [ZMESH_STATE_DROP_COUNT];  //  inputs dropped in this step, by reason
} zmesh_state_update_t;

//  ---------------------------------------------------------------------------------------------
//  The core. Fields are private: read them through the functions below.

typedef struct {
    char *key;       //  allocation: key, NUL, value
    uint8_t *value;  //  inside the allocation; NULL when deleted or empty
    uint32_t key_size;
    uint32_t value_size;
    uint64_t version;
    uint64_t deleted_ms;  //  tombstone: when this node applied it (the GC clock)
    bool deleted;
} zmesh_state_entry_t;

typedef struct {
    zmesh_id_t id;
    uint64_t generation;
    uint64_t version;     //  highest version applied (own map: the version counter)
    uint64_t floor;       //  tombstones up to this version may have been collected
    uint64_t changed_ms;  //  when generation or version last changed here
    uint64_t hash_generation, hash_version;  //  the tuple `hash` was computed for
    uint64_t hash;                           //  zmesh_state_tuple_hash, cached
    uint32_t entry_count;                    //  keys, tombstones included
    uint32_t entry_capacity;
    uint64_t bytes;  //  key + value bytes of the entries
    zmesh_state_entry_t *entries;
} zmesh_state_owner_t;

typedef struct {
    zmesh_id_t id;
    uint64_t generation;  //  runs of this generation or lower are refused
    uint64_t until_ms;    //  until then
} zmesh_state_forgotten_t;

typedef struct {
    zmesh_state_config_t config;
    zmesh_id_t self;
    uint64_t rng;
    uint64_t now_ms;
    uint32_t owner_count, owner_capacity;
    zmesh_state_owner_t *owners;  //  sorted by id; this node's own map among them
    uint32_t forgotten_count, forgotten_capacity;
    zmesh_state_forgotten_t *forgotten;
    uint32_t peer_count, peer_capacity;
    zmesh_id_t *peers;          //  at most config.max_peers
    uint64_t next_exchange_ms;  //  when the next exchange starts (if there are peers)
    uint64_t gc_next_ms;        //  earliest tombstone expiry, UINT64_MAX if none
    zmesh_id_t cursor;          //  where the next listing of a busy exchange starts
    zmesh_state_out_t out [2];  //  the messages of the current step (a DELTAS, a SUMMARY)
    zmesh_state_digest_entry_t *out_digest;  //  DELTAS: requests
    zmesh_state_run_t *out_runs;
    zmesh_state_delta_t *out_deltas;
    zmesh_state_digest_entry_t *out_listed;  //  SUMMARY: entries
    zmesh_state_summary_t *out_summaries;
    uint32_t out_digest_max, out_runs_max, out_deltas_max, out_summaries_max;
    zmesh_state_summary_t *differ;  //  ranges of a received SUMMARY that differ here (count:
    uint32_t differ_count;          //  this node's); at most ZMESH_STATE_MSG_SUMMARIES_MAX
    zmesh_state_change_t *changes;  //  this step's changes
    uint32_t change_count, change_capacity;
    uint8_t *arena;  //  copies of the keys / values the changes show
    size_t arena_used, arena_capacity;
    zmesh_state_entry_t **scratch;  //  a run's entries, to sort by version
    uint32_t scratch_capacity;
    uint32_t *gives;                    //  owner indexes with something a peer lacks
    uint64_t *gives_from;               //  the version each run starts after
    zmesh_state_digest_entry_t *wants;  //  requests being built
    uint32_t wants_capacity;
    uint64_t dropped [ZMESH_STATE_DROP_COUNT];
} zmesh_state_t;

//  A read view of one key (zmesh_state_get, zmesh_state_each): valid until the next step.
typedef struct {
    const char *key;  //  NUL-terminated
    const uint8_t *value;
    uint32_t value_size;
    uint64_t version;
    bool deleted;  //  a tombstone (only zmesh_state_each shows them)
} zmesh_state_item_t;

typedef struct {
    zmesh_id_t id;
    uint64_t generation;
    uint64_t version;
    uint64_t floor;
    uint32_t key_count;  //  live keys
    uint32_t tombstone_count;
    uint64_t bytes;
} zmesh_state_owner_info_t;

//  Defaults for every field.
void zmesh_state_config_defaults (zmesh_state_config_t *config);
//  ZMESH_EINVAL for a config out of range, among which a budget too small to carry one
//  entry of the largest size allowed, or a key/value size beyond the wire's limits.
int zmesh_state_config_check (const zmesh_state_config_t *config);
//  self: this node's id; generation: its generation (grows at each restart); version: where
//  its version counter starts (0, or what the shell persisted). ZMESH_EINVAL, ZMESH_ENOMEM.
int zmesh_state_init (zmesh_state_t *self,
                      const zmesh_state_config_t *config,
                      const zmesh_id_t *self_id,
                      uint64_t generation,
                      uint64_t version,
                      uint64_t seed,
                      uint64_t now_ms);
void zmesh_state_fini (zmesh_state_t *self);
void zmesh_state_step (zmesh_state_t *self,
                       const zmesh_state_event_t *event,
                       zmesh_state_update_t *update);
//  When the shell must tick next; UINT64_MAX when nothing is pending.
uint64_t zmesh_state_deadline_ms (const zmesh_state_t *self);

//  A 64-bit digest of everything this node holds: the summary of the whole id space (count
//  and sum of the owners' tuple hashes) in one word, never 0. Two nodes with equal digests
//  hold the same replicas (but for a 2^-64 chance), so a shell that carries the digest in
//  messages it sends anyway (the gossip actor: in SWIM's PING and ACK) starts an exchange
//  (ZMESH_STATE_EXCHANGE) only with a peer whose digest differs, and can set interval_ms long:
//  a quiet mesh then sends no state messages at all. O(owners) (their hashes are cached).
uint64_t zmesh_state_digest (zmesh_state_t *self);

//  Local writes, as steps (the change appears in the update). The error is also update->error:
//  ZMESH_EINVAL (empty or unprintable key), ZMESH_ETOOBIG (key or value too large),
//  ZMESH_ELIMIT (keys or bytes of this node's map), ZMESH_ENOTFOUND (delete of no key).
int zmesh_state_set (zmesh_state_t *self,
                     uint64_t now_ms,
                     const char *key,
                     const void *value,
                     uint32_t value_size,
                     zmesh_state_update_t *update);
int zmesh_state_delete (zmesh_state_t *self,
                        uint64_t now_ms,
                        const char *key,
                        zmesh_state_update_t *update);
//  Drop an owner's map and refuse it (at generation or lower) for forget_ttl_ms, unless the
//  owner itself talks to this node. ZMESH_EINVAL for this node's own id.
int zmesh_state_forget (zmesh_state_t *self,
                        uint64_t now_ms,
                        const zmesh_id_t *owner,
                        uint64_t generation,
                        zmesh_state_update_t *update);

//  This node's version counter (the shell may persist it) and generation.
uint64_t zmesh_state_version (const zmesh_state_t *self);
//  A live key of an owner: ZMESH_OK, or ZMESH_ENOTFOUND (no such owner or key, or deleted).
int zmesh_state_get (const zmesh_state_t *self,
                     const zmesh_id_t *owner,
                     const char *key,
                     zmesh_state_item_t *item);
//  Call visit for each key of an owner (tombstones too if with_deleted), in no set order.
//  ZMESH_ENOTFOUND if the owner is not held.
typedef void (zmesh_state_visit_fn) (const zmesh_state_item_t *item, void *arg);
int zmesh_state_each (const zmesh_state_t *self,
                      const zmesh_id_t *owner,
                      bool with_deleted,
                      zmesh_state_visit_fn *visit,
                      void *arg);
//  Owners held, by index in id order (0..zmesh_state_owner_count - 1), or by id.
uint32_t zmesh_state_owner_count (const zmesh_state_t *self);
int
zmesh_state_owner_at (const zmesh_state_t *self, uint32_t index, zmesh_state_owner_info_t *info);
int zmesh_state_owner_info (const zmesh_state_t *self,
                            const zmesh_id_t *owner,
                            zmesh_state_owner_info_t *info);
//  Inputs dropped since init, by reason.
uint64_t zmesh_state_dropped (const zmesh_state_t *self, zmesh_state_drop_t reason);
//  "malformed", "key", ... for a drop reason; "set", "delete", "drop" for a change kind.
const char *zmesh_state_drop_name (zmesh_state_drop_t reason);
const char *zmesh_state_change_name (zmesh_state_change_kind_t kind);

#endif
