/*  zmesh_auction.h: the owner's rounds of bids for the `auction` strategy, as a pure core
    (protocol.md 8.14, CALL and BID in 7.7.4).

    An owner placing a task of strategy `auction` for which it holds no valid round opens one:
    it sends a CALL to every node that could take such tasks, each node answers a BID, and
    the task waits. A round closes when every node asked has answered, or wait_ms (50) after
    it opened, whichever comes first; its bids then serve every task alike (same handler,
    resources and tags) for valid_ms (500) after it closed, and the next such task opens a
    new round. The shell places a task by its round's bids: a node that answered `able`
    false is not eligible, a node that bid has its bid, a node that did not answer (or was
    not asked) gets the bid the shell computes from its published description.

    This core keeps the rounds and decides nothing else: the shell sends the CALLs (and says
    whom it asked), feeds it the BIDs, ticks it at its deadline, and kicks its waiting tasks
    when a round closes. The life of a round:

        zmesh_auction_round   the round for tasks like a call: one kept (open or closed and
                              valid), or a new one with a fresh call id (opened)
        zmesh_auction_ask     a node the shell sent the CALL of a new round to (any number)
        zmesh_auction_sent    the CALLs are out: a round that asked nobody closes at once
        zmesh_auction_bid     a node's answer: the round closes when every node asked has
                              answered (the first answer of each counts)
        zmesh_auction_tick    an open round whose wait ended closes with what it has
        zmesh_auction_apply   a closed round's bids onto the shell's placement candidates

    Rules that keep hostile or confused peers out. A bid counts only if it is well formed
    (permille 0..1000, 0 when not able), names a round kept, that round is still open, the
    sender is a node the round asked, and it is that node's first answer; anything else is
    ignored, counted by reason in the stats, and changes nothing. A closed round is never
    reopened and its bids never change: a late answer is ignored. Call ids come from a
    counter (never 0, never one of a round kept), so a stale or forged id names no round or
    one the sender was not asked in.

    Limits. At most rounds_max rounds are kept (64). Opening one more drops the closed round
    that closed first; an open round is never dropped, since tasks wait for it and only its
    close gives them another pass. When every round kept is open, zmesh_auction_round says
    ZMESH_ELIMIT and the shell places the task on computed bids, without a round (dropping
    an open round instead let more kinds of tasks than rounds_max take each other's rounds
    for ever). A round asks at most nodes_max nodes: a node asked beyond that is
    ZMESH_ELIMIT (the shell does not send it the CALL; its bid is computed). Rounds whose
    validity ended are dropped at the next zmesh_auction_round.

    Time comes with every call (monotonic ms; a time that goes backwards is taken as the
    latest seen). No clock, no I/O; memory from malloc, a failed allocation is an assertion.
*/
#ifndef ZMESH_AUCTION_H_INCLUDED
#define ZMESH_AUCTION_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include "zmesh_place.h"
#include "zmesh_task.h"
#include <stdbool.h>
#include <stdint.h>

#define ZMESH_AUCTION_WAIT_MS_DEFAULT    50  //  bids awaited at most
#define ZMESH_AUCTION_WAIT_MS_LIMIT      60000
#define ZMESH_AUCTION_VALID_MS_DEFAULT   500  //  a closed round serves tasks alike this long
#define ZMESH_AUCTION_VALID_MS_LIMIT     3600000
#define ZMESH_AUCTION_ROUNDS_MAX_DEFAULT 64  //  rounds kept at once (the oldest goes first)
#define ZMESH_AUCTION_ROUNDS_LIMIT       4096
#define ZMESH_AUCTION_NODES_MAX_DEFAULT  4096  //  nodes one round asks at most
#define ZMESH_AUCTION_NODES_LIMIT        (1u << 20)

typedef struct {
    uint32_t wait_ms;     //  an open round closes this long after it opened, 1..WAIT_MS_LIMIT
    uint32_t valid_ms;    //  a closed round serves tasks alike this long, 1..VALID_MS_LIMIT
    uint32_t rounds_max;  //  rounds kept at once, 1..ROUNDS_LIMIT
    uint32_t nodes_max;   //  nodes one round asks at most, 1..NODES_LIMIT
} zmesh_auction_config_t;

typedef enum {
    ZMESH_AUCTION_NONE = 0,  //  no round kept by that call id (never opened, dropped, pruned)
    ZMESH_AUCTION_OPEN,      //  waiting for bids
    ZMESH_AUCTION_CLOSED,    //  closed, its bids valid
    ZMESH_AUCTION_EXPIRED    //  closed, valid_ms over (kept until the next round lookup)
} zmesh_auction_state_t;

//  What zmesh_auction_round found or opened.
typedef struct {
    uint32_t call_id;             //  the round's: the CALL's id, which the BIDs repeat
    zmesh_auction_state_t state;  //  OPEN or CLOSED
    bool opened;                  //  a new round: ask, then sent
} zmesh_auction_round_t;

//  Figures since the core was made, and now. They add up:
//      opened = closed_answers + closed_empty + closed_deadline + open
//      bids = bids_accepted + ignored_unknown + ignored_late + ignored_not_asked
//             + ignored_duplicate + ignored_malformed
typedef struct {
    uint64_t opened;             //  rounds opened
    uint64_t closed_answers;     //  closed when the last node asked answered
    uint64_t closed_empty;       //  closed at once: nobody was asked
    uint64_t closed_deadline;    //  closed at wait_ms with answers missing
    uint64_t dropped_room;       //  closed rounds dropped to make room for a new one
    uint64_t refused_full;       //  rounds not opened: rounds_max kept, every one open
    uint64_t expired;            //  dropped after valid_ms
    uint64_t asked;              //  nodes asked, over all rounds
    uint64_t bids;               //  bids heard
    uint64_t bids_accepted;      //  the first answer of a node asked, to an open round
    uint64_t bids_unable;        //  of which `able` false
    uint64_t ignored_unknown;    //  no round kept by that call id (forged, dropped, expired)
    uint64_t ignored_late;       //  the round had closed
    uint64_t ignored_not_asked;  //  from a node the round did not ask
    uint64_t ignored_duplicate;  //  a second answer of the same node
    uint64_t ignored_malformed;  //  permille above 1000, or not able with a permille
    uint32_t rounds;             //  kept now, at most rounds_max
    uint32_t open;               //  of which open
} zmesh_auction_stats_t;

typedef struct zmesh_auction_s zmesh_auction_t;

//  The documented defaults above.
void zmesh_auction_config_defaults (zmesh_auction_config_t *config);
//  ZMESH_OK, or ZMESH_EINVAL for NULL or a field out of the ranges above.
int zmesh_auction_config_check (const zmesh_auction_config_t *config);

//  A core with no rounds (config NULL: the defaults); NULL if the config is bad.
zmesh_auction_t *zmesh_auction_new (const zmesh_auction_config_t *config);
//  Free it and everything it holds; nulls *self_p. Idempotent.
void zmesh_auction_destroy (zmesh_auction_t **self_p);

//  Do tasks of calls a and b share rounds: the same handler, cpu_millicores, memory_bytes,
//  gpus and tags in the same order (id and perf_best_us are not compared)?
bool zmesh_auction_alike (const zmesh_task_call_t *a, const zmesh_task_call_t *b);

//  The round for tasks like call, at now_ms: first drops the rounds whose validity ended;
//  then the oldest round alike, open or closed (*round: its id and state, opened false); if
//  there is none, opens one (opened true, state OPEN, a fresh call id; if rounds_max are
//  kept, the closed one that closed first is dropped), which waits for its asks and
//  zmesh_auction_sent. ZMESH_ELIMIT: none alike, and rounds_max kept, all open (place the
//  task without a round). ZMESH_EINVAL for a call whose handler or tags are not
//  NUL-terminated within their size or with more than ZMESH_TASK_TAGS_MAX tags. On an error
//  *round is zero and nothing else changes but the pruning and the count.
int zmesh_auction_round (zmesh_auction_t *self,
                         const zmesh_task_call_t *call,
                         uint64_t now_ms,
                         zmesh_auction_round_t *round);

//  The shell sent the CALL of round call_id to node. A node asked twice counts once.
//  ZMESH_ENOTFOUND: no such round; ZMESH_ESTATE: its CALLs were sent already (or it closed);
//  ZMESH_ELIMIT: nodes_max asked already (the node is not asked).
int zmesh_auction_ask (zmesh_auction_t *self, uint32_t call_id, const zmesh_id_t *node);

//  The CALLs of round call_id are out: it waits for the nodes asked, or closes at once when
//  they all answered already, nobody included; *state (may be NULL) says which (OPEN or
//  CLOSED). ZMESH_ENOTFOUND: no such round; ZMESH_ESTATE: said already, or closed.
int zmesh_auction_sent (zmesh_auction_t *self,
                        uint32_t call_id,
                        uint64_t now_ms,
                        zmesh_auction_state_t *state);

//  A BID from node `from` at now_ms. ZMESH_OK: recorded, and *closed (may be NULL) says
//  whether it closed its round (the last node asked to answer, after sent). Ignored, and
//  counted: ZMESH_EPROTO malformed (permille above 1000, or not able with a permille);
//  ZMESH_ENOTFOUND no round kept by that call id; ZMESH_ETIMEOUT the round has closed;
//  ZMESH_EINVAL the round did not ask `from`; ZMESH_ESTATE `from` answered already.
int zmesh_auction_bid (zmesh_auction_t *self,
                       const zmesh_id_t *from,
                       const zmesh_task_bid_t *bid,
                       uint64_t now_ms,
                       bool *closed);

//  Close every open round whose wait ended (now_ms >= its deadline) with the bids it has:
//  valid until now_ms + valid_ms. Returns how many closed (the shell kicks its tasks if any).
uint32_t zmesh_auction_tick (zmesh_auction_t *self, uint64_t now_ms);

//  The earliest deadline of an open round; UINT64_MAX if none is open.
uint64_t zmesh_auction_deadline_ms (const zmesh_auction_t *self);

//  The state of round call_id at now_ms (NONE: no round kept by that id).
zmesh_auction_state_t
zmesh_auction_state (const zmesh_auction_t *self, uint32_t call_id, uint64_t now_ms);

//  Apply closed round call_id's bids to candidates [0 .. count) by id: a node that answered
//  `able` false gets eligible false, a node that bid gets has_bid and bid_permille; the
//  others are left as they are. ZMESH_OK; ZMESH_ENOTFOUND no such round; ZMESH_ESTATE the
//  round is open; ZMESH_ETIMEOUT its validity ended; ZMESH_EINVAL candidates NULL with count
//  above 0. On an error nothing is changed.
int zmesh_auction_apply (const zmesh_auction_t *self,
                         uint32_t call_id,
                         uint64_t now_ms,
                         zmesh_place_node_t *candidates,
                         uint32_t count);

//  The figures (see zmesh_auction_stats_t).
void zmesh_auction_stats (const zmesh_auction_t *self, zmesh_auction_stats_t *stats);

#endif
