/*  zmesh_swim_internal.h: what the SWIM core's files share: zmesh_swim.c (table,
    dissemination), zmesh_swim_view.c (views and joins), zmesh_swim_probe.c (probing and
    suspicion) and zmesh_swim_step.c (life cycle, step, sending, read access). Not for the
    shell: use zmesh_swim.h.
*/
#ifndef ZMESH_SWIM_INTERNAL_H_INCLUDED
#define ZMESH_SWIM_INTERNAL_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_swim.h"

#define SWIM_NO_SLOT      UINT32_MAX
#define SWIM_FRESH_MAX    128  //  records pushed eagerly at the end of one step
#define SWIM_LINKS_MAX    64   //  link changes one step may ask
#define SWIM_VIEW_NONE    0
#define SWIM_VIEW_ACTIVE  1
#define SWIM_VIEW_PASSIVE 2
//  Urgent records (suspicions, deaths, leaves, refutations) go to every active neighbour at
//  least this many times (the eager push counts), whatever the piggyback limit: a neighbour
//  whose copies were all lost would otherwise run its suspicion timer out.
#define SWIM_URGENT_SENDS 3
//  Other news (joins, restarts) goes to every active neighbour this many times: the eager
//  push, and one piggybacked copy in case it was lost (a neighbour that sent it here is owed
//  it no more). Flooding over the active views reaches every node; anti-entropy (SYNC)
//  repairs what loss still took.
#define SWIM_NEWS_SENDS      2
#define SWIM_REPUSH_MS       100  //  an owed urgent record is pushed again after this
#define SWIM_HARD_LIMIT_MULT 4    //  a record leaves the queue after limit * this, whatever
//  A bootstrap page not answered within neighbor_timeout_ms is asked again, this many times
//  in all, before the bootstrap starts over from another neighbour.
#define SWIM_BOOTSTRAP_TRIES 3
//  Anti-entropy by digest: PING and ACK carry a hash of the sender's table (its live records);
//  a mismatch with a neighbour that outlasts this many probe intervals (news in flight
//  settles well within it) makes this node compare buckets of the table with it (SYNC).
#define SWIM_DIGEST_SETTLE_INTERVALS 2
#define SWIM_DIGEST_BUCKET_RECORDS   16  //  aim: this many records per bucket
//  Deafness: a node that has heard from no live member for this many probe intervals (its
//  neighbours stalled, its links lost) does not let a suspicion run out into a death; once
//  it hears again, it asks its neighbours and waits one probe interval more.
#define SWIM_DEAF_INTERVALS 3
//  Partition healing makes at most one link per this many reconnect intervals.
#define SWIM_HEAL_LINK_INTERVALS 10
//  A reconnect probe answered (a partition healed, likely) is followed at once by another,
//  this many times in a row: the other side learns it is held dead in a second or two, not
//  after ln(N) reconnect intervals of one probe each.
#define SWIM_HEAL_BURST 4
#define SWIM_TELL_MAX   8  //  members told in one step that this node holds them dead
//  After the last page of a digest SYNC's answer, the members the asked node lacks go back
//  to it in up to this many GOSSIPs.
#define SWIM_SENDBACK_MAX 4

struct zmesh_swim_member_s {
    zmesh_swim_record_t rec;  //  what this node holds of the member (rec.accuser: latest)
    uint64_t state_since_ms;  //  entered its current state (tombstones reap from here)
    uint64_t suspect_start_ms;
    uint32_t suspect_incarnation;  //  the incarnation the current suspicion is about
    uint64_t dead_at_ms;           //  SUSPECT: when the suspicion runs out
    uint64_t recheck_at_ms;        //  SUSPECT: when to ask the neighbours again (0: asked)
    uint64_t told_ms;              //  last time this node told the member it is suspected
    zmesh_id_t suspecters [ZMESH_SWIM_SUSPECTERS_MAX];
    uint8_t suspecter_count;                       //  distinct accusers of the current suspicion
    uint8_t view;                                  //  SWIM_VIEW_*
    uint8_t transmits;                             //  piggybacked so many times since it was queued
    uint8_t sent_n;                                //  neighbours in sent_to[]
    uint32_t sent_to [ZMESH_SWIM_ACTIVE_LIMIT];    //  slots of active neighbours sent to
    uint8_t sent_count [ZMESH_SWIM_ACTIVE_LIMIT];  //  how often each one got it
    bool queued;                                   //  in the piggyback queue
    uint32_t attach_stamp;                         //  attach() that took it last
    bool urgent;           //  queued news a timer elsewhere runs on (see zmesh_swim__enqueue)
    uint64_t pushed_ms;    //  urgent: last eager push or re-push
    uint32_t tracked_pos;  //  index in tracked[] (not ALIVE), or SWIM_NO_SLOT
    uint32_t order_pos;    //  index in order[]
    uint64_t mismatch_ms;  //  active neighbour: its digest differs from ours since (0: agrees)
    uint64_t checked_ms;   //  active neighbour: last probed, or last heard answering (its
                           //  PING to this node, its ACK): the stalest is probed next
    uint32_t digest_pull;  //  the digest comparison whose answer named it last
};

typedef struct {
    bool running;
    uint32_t slot;
    zmesh_id_t id;
    uint64_t seq;
    uint64_t direct_deadline_ms;  //  resend + PING_REQs then
    uint64_t end_ms;              //  suspect then, unless acked
    bool indirect_sent;
    uint64_t retry_ms;  //  a last direct ping then, halfway between the timeout and the end
    bool retried;
    uint32_t requests, answers;  //  PING_REQs sent; NACKs / relayed ACKs received
} swim_probe_t;

typedef struct {
    bool used;
    zmesh_id_t requester, target;
    uint64_t requester_seq, seq;
    uint64_t nack_at_ms, expire_ms;
    bool nacked;
} swim_relay_t;

struct zmesh_swim_s {
    zmesh_swim_config_t config;
    uint64_t rng;
    uint64_t now_ms;
    bool left;
    uint32_t lhm;
    uint64_t seq;  //  last probe sequence number used
    //  Table: slots 0..max_members-1; slot 0 is this node. free[] is a stack of free slots
    //  (its top at max_members - member_count - 1), order[] the used ones densely.
    zmesh_swim_member_t *members;
    uint32_t member_count;  //  used slots, this node included
    uint32_t *free;
    uint32_t *order;
    uint32_t *hash;
    uint32_t hash_mask;
    uint32_t *tracked;  //  slots of members not ALIVE (timers of the table)
    uint32_t tracked_count;
    uint32_t *queue;  //  piggyback queue of slots
    uint32_t queue_count;
    uint32_t attach_seq;  //  stamp of the current attach()
    bool repush_pending;  //  urgent records may still be owed to neighbours
    uint64_t next_repush_ms;
    //  Views.
    uint32_t active [ZMESH_SWIM_ACTIVE_LIMIT];
    uint32_t active_count;
    uint32_t *passive;
    uint32_t passive_count;
    //  Probing.
    uint32_t probe_first;  //  slot to probe next (LINK_DOWN), or SWIM_NO_SLOT
    swim_probe_t probe;
    uint64_t next_probe_ms;
    swim_relay_t relays [ZMESH_SWIM_RELAYS_MAX];
    //  Other timers.
    uint64_t next_shuffle_ms, next_sync_ms, next_reconnect_ms, next_heal_link_ms;
    uint64_t reconnect_seq;
    uint32_t reconnect_burst;  //  answered reconnect probes followed at once (SWIM_HEAL_BURST)
    bool reconnect_answered;   //  the last reconnect probe was answered
    uint32_t sync_cursor;      //  next page to pull (of bootstrap_from's table while bootstrapping)
    uint64_t digest;          //  XOR of the hashes of the live records of the table (self included)
    uint64_t digest_sync_ms;  //  the last digest SYNC (one per sync_interval_ms), or 0
    uint64_t recover_since_ms;  //  a partition healed lately (zmesh_swim__recover): since
    uint64_t recover_until_ms;  //  and until when digest SYNCs come sooner
    bool check_views;           //  this node was held dead: ping every active neighbour
    uint64_t check_views_ms;    //  no such round before (one per probe interval)
    uint64_t heard_ms;          //  last message from a member not held DEAD or LEFT
    bool deaf;                  //  a death was put off: nothing heard for a while
    bool bootstrapping;         //  pulling the whole table from bootstrap_from
    zmesh_id_t bootstrap_from;
    uint32_t bootstrap_tries;  //  page requests to bootstrap_from not answered yet
    bool bootstrap_join;       //  the pull is this node's join (else another overlay's table)
    bool second_bootstrap;     //  pull a whole table once more, from another neighbour
    bool quiet;                //  merging a joiner's pull: old news, pushed but not queued
    bool joining;              //  a JOIN_VIA is pending until the active view is not empty
    zmesh_id_t join_id;
    zmesh_swim_contact_t join_contact;
    uint64_t next_join_ms;
    uint32_t neighbor_pending;  //  slot a NEIGHBOR request waits on, or SWIM_NO_SLOT
    uint64_t neighbor_until_ms;
    uint64_t next_neighbor_ms;  //  no request of normal priority before (one was refused)
    uint64_t deadline_ms;       //  cached at the end of each step
    //  Scratch of the current step.
    zmesh_swim_update_t *update;
    zmesh_swim_send_t sends [ZMESH_SWIM_SENDS_MAX];
    zmesh_swim_link_t links [SWIM_LINKS_MAX];
    zmesh_swim_change_t *changes;
    uint32_t change_capacity;
    zmesh_swim_record_t pool [ZMESH_SWIM_POOL_RECORDS];
    uint32_t pool_used;
    uint32_t bucket_scratch [4][ZMESH_SWIM_BUCKETS_MAX];  //  digest SYNCs of the step
    uint32_t bucket_used;
    zmesh_id_t digest_from;    //  the neighbour asked last for the buckets that differ
    uint32_t digest_cursor;    //  and where in its table
    uint32_t digest_pull;      //  comparisons started (members remember the last to name them)
    uint64_t digest_retry_ms;  //  the page asked last is asked again then (0: none pending)
    uint32_t digest_tries;     //  requests of that page so far (SWIM_BOOTSTRAP_TRIES at most)
    zmesh_swim_record_t fresh_records [SWIM_FRESH_MAX];
    uint32_t fresh_count;
    uint32_t tell [SWIM_TELL_MAX];  //  slots of members held DEAD to tell so, end of step
    uint32_t tell_count;
    zmesh_swim_stats_t stats;
};

//  Half the active view or less: this node asks for neighbours at once and at high priority
//  (the receiver must accept), not only with none as in HyParView. A member with few
//  neighbours has few probers, so its crash is found late, and its news travels by few paths.
static inline bool
zmesh_swim__view_thin (const zmesh_swim_t *self)
{
    return self->active_count * 2 <= self->config.active_max;
}

uint64_t zmesh_swim__rand (zmesh_swim_t *self);
uint32_t zmesh_swim__below (zmesh_swim_t *self, uint32_t bound);
zmesh_swim_member_t *zmesh_swim__find (const zmesh_swim_t *self, const zmesh_id_t *id);
void zmesh_swim__init_self (zmesh_swim_t *self, const zmesh_swim_record_t *me);
bool zmesh_swim__merge (zmesh_swim_t *self, const zmesh_swim_record_t *rec);
void zmesh_swim__suspect (zmesh_swim_t *self, zmesh_swim_member_t *m);
void zmesh_swim__table_tick (zmesh_swim_t *self);
uint64_t zmesh_swim__table_deadline (const zmesh_swim_t *self);
void zmesh_swim__enqueue (zmesh_swim_t *self, uint32_t slot, bool urgent);
void zmesh_swim__unqueue (zmesh_swim_t *self, uint32_t slot);
uint32_t zmesh_swim__retransmit_limit (const zmesh_swim_t *self);
zmesh_swim_record_t *zmesh_swim__pool (zmesh_swim_t *self, uint32_t count);
size_t zmesh_swim__msg_size (const zmesh_swim_msg_t *msg);
void zmesh_swim__attach (zmesh_swim_t *self, zmesh_swim_msg_t *msg, const zmesh_swim_member_t *to);
void
zmesh_swim__known_by (zmesh_swim_t *self, const zmesh_swim_record_t *rec, const zmesh_id_t *from);
bool zmesh_swim__owed (const zmesh_swim_t *self, const zmesh_swim_member_t *m, uint32_t slot);
void zmesh_swim__mark_sent (const zmesh_swim_t *self, zmesh_swim_member_t *m, uint32_t slot);
void zmesh_swim__fresh (zmesh_swim_t *self, const zmesh_swim_record_t *rec);
uint64_t zmesh_swim__record_hash (const zmesh_swim_record_t *rec);
uint32_t zmesh_swim__bucket (const zmesh_id_t *id, uint32_t buckets);
void zmesh_swim__heard (zmesh_swim_t *self);
void zmesh_swim__recover (zmesh_swim_t *self);
void zmesh_swim__owe_suspicions (zmesh_swim_t *self, uint32_t slot);
//  In zmesh_swim_step.c: the step's sends. send_to / send add a message (NULL when the step
//  has no room left); seal piggybacks and closes it, called last.
zmesh_swim_msg_t *zmesh_swim__send_to (zmesh_swim_t *self,
                                       const zmesh_id_t *id,
                                       const zmesh_swim_contact_t *contact,
                                       uint8_t type);
zmesh_swim_msg_t *
zmesh_swim__send (zmesh_swim_t *self, const zmesh_swim_member_t *to, uint8_t type);
void zmesh_swim__seal (zmesh_swim_t *self, zmesh_swim_msg_t *msg, const zmesh_id_t *to);
//  In zmesh_swim_view.c: views (HyParView), joins, shuffles, table pulls.
uint32_t zmesh_swim__slot (const zmesh_swim_t *self, const zmesh_swim_member_t *m);
void zmesh_swim__active_remove (zmesh_swim_t *self, zmesh_swim_member_t *m, bool to_passive);
void zmesh_swim__view_drop (zmesh_swim_t *self, zmesh_swim_member_t *m);
void zmesh_swim__relink (zmesh_swim_t *self, zmesh_swim_member_t *m);
zmesh_swim_member_t *
zmesh_swim__random_active (zmesh_swim_t *self, const zmesh_id_t *not_a, const zmesh_id_t *not_b);
void zmesh_swim__send_neighbor (zmesh_swim_t *self, const zmesh_swim_member_t *to, uint8_t flags);
void zmesh_swim__send_sync (zmesh_swim_t *self,
                            const zmesh_swim_member_t *to,
                            uint32_t cursor,
                            uint8_t flags);
void zmesh_swim__on_join (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void zmesh_swim__on_forward_join (zmesh_swim_t *self,
                                  const zmesh_id_t *from,
                                  const zmesh_swim_msg_t *msg);
void
zmesh_swim__on_neighbor (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void zmesh_swim__on_disconnect (zmesh_swim_t *self, const zmesh_id_t *from);
void zmesh_swim__integrate (zmesh_swim_t *self, const zmesh_swim_record_t *entries, uint32_t count);
void
zmesh_swim__on_shuffle (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void zmesh_swim__on_sync (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void
zmesh_swim__on_sync_reply (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void zmesh_swim__view_tick (zmesh_swim_t *self);
void zmesh_swim__sync_tick (zmesh_swim_t *self);
void zmesh_swim__digest_tick (zmesh_swim_t *self);
void zmesh_swim__start_bootstrap (zmesh_swim_t *self, const zmesh_swim_member_t *from);
void zmesh_swim__start_pull (zmesh_swim_t *self, const zmesh_swim_member_t *from);
void zmesh_swim__on_digest (zmesh_swim_t *self, zmesh_swim_member_t *from, uint64_t digest);
void zmesh_swim__shuffle_tick (zmesh_swim_t *self);
//  In zmesh_swim_probe.c: probing (SWIM), local health (Lifeguard), indirect-probe relays.
void zmesh_swim__lhm (zmesh_swim_t *self, int delta);
void zmesh_swim__on_ping (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void zmesh_swim__on_ack (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void
zmesh_swim__on_ping_req (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void zmesh_swim__on_nack (zmesh_swim_t *self, const zmesh_swim_msg_t *msg);
bool
zmesh_swim__on_sender (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg);
void zmesh_swim__probe_tick (zmesh_swim_t *self);
void zmesh_swim__relay_tick (zmesh_swim_t *self);
void zmesh_swim__reconnect_tick (zmesh_swim_t *self);
void zmesh_swim__on_heal (zmesh_swim_t *self, zmesh_swim_member_t *m, bool restarted);

#endif
