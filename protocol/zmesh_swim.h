/*  zmesh_swim.h: SWIM membership over a HyParView partial view, with Lifeguard, as a pure core.

    What it does. Every node keeps a member table (id, generation, incarnation, state, contact)
    and two views of it: an ACTIVE view of a few neighbours (default 4, at most 8) that the
    shell keeps CURVE links to, and a PASSIVE view (default 30) of other members to heal the
    active one from. Papers: SWIM (Das, Gupta, Motivala 2002), Lifeguard (Dadgar et al. 2018),
    HyParView (Leitao, Pereira, Rodrigues 2007), Plumtree's eager push (Leitao et al. 2007).

    - Failure detection (SWIM): once per probe interval the node PINGs the active neighbour
      it checked least recently (probed, or heard answering for the link: its PING to this
      node, its ACK), so that each link, probed from both ends, is checked about twice per
      round of one end's probes; a neighbour someone else suspects goes first; without an ACK within the probe timeout it
      PINGs it once more and sends PING_REQ to up to k other active neighbours; without an ACK
      by the end of the interval it SUSPECTs it. Partial view: an intermediary relays the probe
      only over a link it already has (the target is in its own active view); otherwise it
      answers NACK(REFUSED) at once, so the requester learns that the intermediary, and its own
      path to it, work (Lifeguard's nack) without a new connection being made for a probe.
      What the missing indirect paths cost is made up by the suspicion being confirmed
      independently by the target's other neighbours, who all probe it.
    - Suspicion (SWIM + Lifeguard): a suspect becomes DEAD after a timeout that starts at
      suspicion_max_ms and shrinks toward suspicion_min_ms as distinct accusers confirm it:
      max - (max - min) * log(C + 1) / log(K + 1), C confirmations, K expected. A suspect that
      hears of it refutes: it bumps its incarnation and spreads ALIVE. Because only neighbours
      probe, the number of accusers is bounded by the active view, not by N: the timeouts are
      not scaled by log N, which keeps detection flat in N.
    - Local health (Lifeguard): a multiplier LHM in 0..lhm_max grows on a failed probe, on
      missing NACKs, and on each refutation of a suspicion of this node; shrinks on a
      successful probe. The probe interval and timeout are scaled by (LHM + 1), so a node that
      is itself lagging probes less often and waits longer before it accuses anyone.
    - Dissemination: a record that changes this node's table is pushed at once to every active
      neighbour but the one it came from (GOSSIP: eager flooding over the partial view), and
      piggybacked on later messages until every active neighbour has it (sent to it twice, or
      three times for urgent news, or heard from it), fewest-sent first; to other nodes up to
      lambda * ceil(log10(N + 1)) times. A node that receives a suspicion or death it knows
      is over answers with its record, and halfway through a suspicion a node asks its
      neighbours again, so a node that missed every copy of a refutation still hears it.
      Messages to a node lead with this node's record of it when that record is SUSPECT or
      DEAD, so a wrongly accused node learns it at once and refutes. Every message fits
      max_message_bytes, whole (zmesh_swim_record_size), never cut.
    - Ordering: a higher generation supersedes everything (the node restarted, maybe at a new
      address); within a generation a higher incarnation wins, and at equal incarnation
      LEFT > DEAD > SUSPECT > ALIVE. LEFT is final for its generation. DEAD and LEFT members
      stay as tombstones for reap_after_ms, then are forgotten and may come back. A record of
      an unknown member creates it only when it is ALIVE or SUSPECT, so tombstones that
      outlive a reap elsewhere never re-create a member.
    - Topology (HyParView): JOIN through any member (it takes the joiner into its active view
      and sends FORWARD_JOIN random walks: the node where a walk ends takes the joiner too;
      the node at passive_walk_length puts it in its passive view); NEIGHBOR requests (high
      priority when the requester has no neighbour) refill the active view from the passive
      one; DISCONNECT when a neighbour is dropped; SHUFFLE random walks exchange samples of
      both views. A joiner pulls the table of its contact page by page (SYNC; a page not
      answered within neighbor_timeout_ms is asked again).
    - Anti-entropy by digest: PING and ACK carry a 64-bit hash of the sender's live records
      (id, generation, incarnation). A neighbour whose digest stays different for two probe
      intervals is asked (at most once per sync_interval_ms) for the records of the buckets
      of its table whose hashes differ (SYNC with bucket hashes), page by page (a page not
      answered within probe_timeout_ms is asked again); the asker sends back what it holds
      newer, page by page, and the members the asked node lacks. Tables that agree cost no
      message. Table pulls use the same buckets, so a pull that starts over skips what
      already arrived.
    - Deafness (Lifeguard's premise): a node that heard from no live member for three probe
      intervals does not let a suspicion run out into a death until it hears again and has
      asked its neighbours; a new active neighbour is told every suspicion this node holds.
    - Partition healing: every reconnect_interval_ms a node that holds DEAD or LEFT members
      PINGs one of them (flag RECONNECT). If it answers, each side tells the other it is held
      DEAD (the record leads the reply), both refute, and the refutations flood both sides;
      the first answer also makes a high-priority NEIGHBOR link, so the two overlays become
      one, and is followed at once by a few more reconnect probes. A node that receives the
      refutation of an older death of a member it holds DEAD tells that member so. A node
      that sees a heal (a reconnect probe answered, a death of this generation refuted)
      resets its LHM (its failed probes were the partition's) and, for sync_interval_ms,
      compares any digest that differs after one probe interval, one SYNC per probe interval:
      nodes that missed the refutation flood while their views were rebuilt catch up. A node
      told that it is held DEAD pings every active neighbour at once: the neighbours that
      dropped it answer DISCONNECT, and their ACKs carry digests. A member that answers at a
      new generation may lead an island of nodes that joined through each other: both sides
      of the new link pull the other's table.

    Shape (DESIGN.md): init / step (event -> update) / deadline. Events carry the time; the core
    reads no clock, does no I/O, uses only the PRNG seeded at init, and allocates only at init.

    Ownership: an update, and every pointer in it (sends, their messages and records, links,
    contacts, changes), is owned by the core and valid until the next step or fini.
    The event's message is borrowed for the step only.
*/
#ifndef ZMESH_SWIM_H_INCLUDED
#define ZMESH_SWIM_H_INCLUDED

#include "zmesh_ident.h"
#include "zmesh_peer_state.h"
#include "zmesh_swim_codec.h"
#include <stdbool.h>
#include <stdint.h>

#define ZMESH_SWIM_ACTIVE_MAX_DEFAULT            4
#define ZMESH_SWIM_ACTIVE_LIMIT                  8  //  the largest active view a config may ask
#define ZMESH_SWIM_PASSIVE_MAX_DEFAULT           30
#define ZMESH_SWIM_PASSIVE_LIMIT                 256
#define ZMESH_SWIM_ACTIVE_WALK_DEFAULT           6  //  HyParView ARWL
#define ZMESH_SWIM_PASSIVE_WALK_DEFAULT          3  //  HyParView PRWL
#define ZMESH_SWIM_SHUFFLE_ACTIVE_DEFAULT        3  //  active entries a SHUFFLE carries (ka)
#define ZMESH_SWIM_SHUFFLE_PASSIVE_DEFAULT       4  //  passive entries a SHUFFLE carries (kp)
#define ZMESH_SWIM_SHUFFLE_INTERVAL_MS_DEFAULT   30000
#define ZMESH_SWIM_PROBE_INTERVAL_MS_DEFAULT     1000
#define ZMESH_SWIM_PROBE_TIMEOUT_MS_DEFAULT      400
#define ZMESH_SWIM_INDIRECT_PROBES_DEFAULT       3
#define ZMESH_SWIM_SUSPICION_MIN_MS_DEFAULT      4200
#define ZMESH_SWIM_SUSPICION_MAX_MS_DEFAULT      6000
#define ZMESH_SWIM_CONFIRMATIONS_DEFAULT         2  //  Lifeguard K
#define ZMESH_SWIM_LHM_MAX_DEFAULT               8
#define ZMESH_SWIM_RETRANSMIT_MULT_DEFAULT       4  //  lambda
#define ZMESH_SWIM_MAX_MESSAGE_BYTES_DEFAULT     1400
#define ZMESH_SWIM_MAX_MESSAGE_BYTES_MIN         512  //  room for a record with a full contact
#define ZMESH_SWIM_REAP_AFTER_MS_DEFAULT         60000
#define ZMESH_SWIM_MAX_MEMBERS_DEFAULT           4096
#define ZMESH_SWIM_SYNC_INTERVAL_MS_DEFAULT      5000
#define ZMESH_SWIM_RECONNECT_INTERVAL_MS_DEFAULT 1000
#define ZMESH_SWIM_JOIN_RETRY_MS_DEFAULT         1000
#define ZMESH_SWIM_NEIGHBOR_TIMEOUT_MS_DEFAULT   1000
#define ZMESH_SWIM_SENDS_MAX                     96    //  messages one step may ask to send
#define ZMESH_SWIM_RELAYS_MAX                    32    //  probes relayed for others at once
#define ZMESH_SWIM_SUSPECTERS_MAX                8     //  distinct accusers remembered per suspect
#define ZMESH_SWIM_POOL_RECORDS                  1024  //  records of the messages of one step

typedef struct {
    //  Who this node is.
    zmesh_id_t id;
    uint64_t generation;           //  grows at each start of the node (persisted by the shell)
    zmesh_swim_contact_t contact;  //  how others reach it
    //  Views (HyParView).
    uint32_t active_max;           //  1..ZMESH_SWIM_ACTIVE_LIMIT
    uint32_t passive_max;          //  1..ZMESH_SWIM_PASSIVE_LIMIT
    uint32_t active_walk_length;   //  ARWL: hops of a FORWARD_JOIN / SHUFFLE walk
    uint32_t passive_walk_length;  //  PRWL: the hop that puts a joiner in a passive view
    uint32_t shuffle_active;       //  ka
    uint32_t shuffle_passive;      //  kp
    uint32_t shuffle_interval_ms;  //  period of SHUFFLE (the passive view also samples the table)
    uint32_t neighbor_timeout_ms;  //  wait for an answer to a NEIGHBOR request or a SYNC page
    uint32_t join_retry_ms;        //  resend JOIN while the active view is empty
    //  Failure detection (SWIM, Lifeguard).
    uint32_t probe_interval_ms;  //  one probe per interval (times LHM + 1)
    uint32_t probe_timeout_ms;   //  direct ack wait (times LHM + 1); < probe_interval_ms
    uint32_t indirect_probes;    //  k: PING_REQ fan-out, 0..ZMESH_SWIM_ACTIVE_LIMIT - 1
    uint32_t suspicion_min_ms;   //  suspicion timeout once K accusers confirmed
    uint32_t suspicion_max_ms;   //  suspicion timeout with one accuser; >= min
    uint32_t confirmations;      //  K: 1..ZMESH_SWIM_SUSPECTERS_MAX - 1
    uint32_t lhm_max;            //  cap of the local health multiplier
    //  Dissemination.
    uint32_t retransmit_mult;        //  lambda: piggyback each record lambda*ceil(log10(N+1))
    uint32_t max_message_bytes;      //  bound of every encoded message
    uint32_t sync_interval_ms;       //  anti-entropy: at most one digest SYNC per interval
    uint32_t reconnect_interval_ms;  //  partition healing: one DEAD member probed per interval
    //  Table.
    uint32_t reap_after_ms;  //  DEAD / LEFT tombstones are forgotten after this
    uint32_t max_members;    //  table capacity, self included; beyond it ZMESH_ELIMIT
} zmesh_swim_config_t;

typedef enum {
    ZMESH_SWIM_TICK = 1,       //  time passed (at least at zmesh_swim_deadline_ms)
    ZMESH_SWIM_RECEIVED = 2,   //  a decoded message from peer `from`
    ZMESH_SWIM_LINK_UP = 3,    //  the shell's link to `from` connected
    ZMESH_SWIM_LINK_DOWN = 4,  //  the shell's link to `from` broke: probe it now
    ZMESH_SWIM_JOIN_VIA = 5,   //  join the mesh through `contact` (whose id is `from`)
    ZMESH_SWIM_LEAVE = 6       //  leave gracefully: LEFT to the neighbours, then stop
} zmesh_swim_event_type_t;

typedef struct {
    zmesh_swim_event_type_t type;
    uint64_t now_ms;                      //  monotonic time of the event
    zmesh_id_t from;                      //  RECEIVED, LINK_*: the peer; JOIN_VIA: contact's id
    const zmesh_swim_msg_t *msg;          //  RECEIVED (borrowed for the step)
    const zmesh_swim_contact_t *contact;  //  JOIN_VIA (borrowed for the step)
} zmesh_swim_event_t;

//  One message to send. If the shell has no link to `to`, it reaches it through `contact`
//  (a short-lived connection; replies to joins and shuffles, NEIGHBOR requests, reconnect
//  probes); contact is NULL only when the core does not know one, and then the shell drops it.
typedef struct {
    zmesh_id_t to;
    const zmesh_swim_contact_t *contact;
    zmesh_swim_msg_t msg;
} zmesh_swim_send_t;

//  A link the shell must open (a member entered the active view) or close (it left it).
typedef struct {
    zmesh_id_t id;
    bool open;
    const zmesh_swim_contact_t *contact;  //  open: where to connect
} zmesh_swim_link_t;

//  One transition of a member, reported once, in the update of the step that made it.
//  from == to == ALIVE is a restart (a new generation: relink to its new contact).
typedef struct {
    zmesh_id_t id;
    zmesh_peer_state_t from;  //  NONE for a new member
    zmesh_peer_state_t to;    //  NONE when it was forgotten (reaped)
    uint64_t generation;
    uint32_t incarnation;
} zmesh_swim_change_t;

typedef struct {
    int error;  //  ZMESH_OK, or ZMESH_ELIMIT when a limit dropped something in this step
    uint32_t send_count;
    zmesh_swim_send_t *sends;
    uint32_t link_count;
    zmesh_swim_link_t *links;
    uint32_t change_count;
    zmesh_swim_change_t *changes;
} zmesh_swim_update_t;

//  Counters, for the shell's metrics and the simulator.
typedef struct {
    uint64_t probes, probe_failures, indirect_requests, nacks_refused, refutations;
    uint64_t suspicions, deaths_declared, limit_drops, bad_messages;
} zmesh_swim_stats_t;

//  A member as the table holds it (private fields; read through zmesh_swim_member).
typedef struct zmesh_swim_member_s zmesh_swim_member_t;
typedef struct zmesh_swim_s zmesh_swim_t;

//  Defaults for every field but the identity (id, generation, contact: all zero).
void zmesh_swim_config_defaults (zmesh_swim_config_t *config);
//  Allocates the core. ZMESH_EINVAL for a config out of range, ZMESH_ENOMEM.
int zmesh_swim_new (zmesh_swim_t **self_p,
                    const zmesh_swim_config_t *config,
                    uint64_t seed,
                    uint64_t now_ms);
//  Frees the core and nulls *self_p; idempotent.
void zmesh_swim_destroy (zmesh_swim_t **self_p);
void
zmesh_swim_step (zmesh_swim_t *self, const zmesh_swim_event_t *event, zmesh_swim_update_t *update);
//  When the shell must tick next; never UINT64_MAX (the probe timer always runs).
uint64_t zmesh_swim_deadline_ms (const zmesh_swim_t *self);

//  Read access, borrowed until the next step.
typedef struct {
    zmesh_id_t id;
    zmesh_peer_state_t state;
    uint64_t generation;
    uint32_t incarnation;
    bool has_contact;
    const zmesh_swim_contact_t *contact;
    bool active, passive;  //  in this node's active / passive view
} zmesh_swim_member_info_t;

//  The member (never this node), or ZMESH_ENOTFOUND.
int
zmesh_swim_member (const zmesh_swim_t *self, const zmesh_id_t *id, zmesh_swim_member_info_t *info);
//  Members in the table, this node excluded, and the i-th of them (0 <= i < count; the order
//  changes with every step).
uint32_t zmesh_swim_member_count (const zmesh_swim_t *self);
void zmesh_swim_member_at (const zmesh_swim_t *self, uint32_t i, zmesh_swim_member_info_t *info);
//  The active view, as ids (at most ZMESH_SWIM_ACTIVE_LIMIT); returns the count.
uint32_t zmesh_swim_active (const zmesh_swim_t *self, zmesh_id_t *ids);
uint32_t zmesh_swim_passive_count (const zmesh_swim_t *self);
uint32_t zmesh_swim_incarnation (const zmesh_swim_t *self);
uint32_t zmesh_swim_lhm (const zmesh_swim_t *self);  //  local health multiplier, 0..lhm_max
bool zmesh_swim_left (const zmesh_swim_t *self);     //  LEAVE was stepped
const zmesh_swim_stats_t *zmesh_swim_stats (const zmesh_swim_t *self);

#endif
