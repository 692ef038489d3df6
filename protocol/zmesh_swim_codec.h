/*  zmesh_swim_codec.h: the messages of SWIM membership (zmesh_swim.h) and their msgpack codec.

    One SWIM message is one msgpack array; the gossip actor carries it as the body of a wire
    envelope (zmesh_wire.h), which names the sender:

        [ type: uint, generation: uint, incarnation: uint, body: array, updates: array ]

    generation and incarnation are the sender's own, so every message is also a fresh word
    about its sender. `updates` is the piggybacked list of membership records (below); `body`
    depends on the type:

        PING          [ seq, target: bin 16, flags, digest, state ]   target: who is to answer
        ACK           [ seq, target: bin 16, digest, state ]          target: who was probed
        PING_REQ      [ seq, target: bin 16 ]            probe target for me, please
        NACK          [ seq, target: bin 16, flags ]     no ack from target (or no path)
        JOIN          [ node: record ]                   the joiner, with its contact
        FORWARD_JOIN  [ node: record, ttl ]              HyParView's random walk of a join
        NEIGHBOR      [ node: record, flags ]            the sender, with its contact
        DISCONNECT    [ ]                                you are out of my active view
        SHUFFLE       [ node: record, ttl, entries: array of record ]
        SHUFFLE_REPLY [ entries: array of record ]
        GOSSIP        [ ]                                eager push: updates only
        SYNC          [ cursor, flags, buckets: bin ]    send me a page of your table
        SYNC_REPLY    [ next: uint, entries: array of record, buckets: bin ]   next 0: done

    state (optional, uint, 0 or absent: none): a 64-bit word the shell attaches, not read by
    the SWIM core; zmesh's gossip actor puts the digest of its node state there
    (zmesh_state_digest), so that neighbours compare their node state at every probe.
    digest (optional, uint, 0 or absent: none): a hash of the sender's table, the XOR of
    the hashes of its ALIVE and SUSPECT records (zmesh_swim.h says which hash); neighbours
    whose digests stay different compare buckets of their tables. buckets (optional, with
    SYNC flag DIGEST): the same hash per bucket of the table (a record's bucket: the first
    four bytes of its id, big-endian, modulo the bucket count), the low 32 bits of each,
    big-endian, 4 bytes per bucket, a power of two of them up to ZMESH_SWIM_BUCKETS_MAX; a
    SYNC with them asks only for the records of the buckets that differ, and the reply
    carries the answerer's own buckets.

    A record is one member's state as it travels:

        [ id: bin 16, generation: uint, incarnation: uint, state: uint 1..4, extra ]

    extra: for ALIVE, nil or the contact [ key: bin 32, endpoint: str, name: str ] (name
    optional: a sender may stop after endpoint); for SUSPECT, the accuser's id (bin 16); for
    DEAD and LEFT, nil.

    Decoding is strict, as in zmesh_wire.c: every field's type, range and size is checked;
    arrays longer than the limits below are refused; extra trailing elements of any array
    this version knows are skipped (forward compatibility); trailing bytes after the message
    are refused. Errors: ZMESH_ETYPE for an unknown type (the header was read), ZMESH_EPROTO
    for anything malformed, ZMESH_ETOOBIG for input over ZMESH_MSG_SIZE_MAX.
*/
#ifndef ZMESH_SWIM_CODEC_H_INCLUDED
#define ZMESH_SWIM_CODEC_H_INCLUDED

#include "zmesh_ident.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZMESH_SWIM_ENTRIES_MAX 64  //  records in a SHUFFLE / SHUFFLE_REPLY / SYNC_REPLY body
#define ZMESH_SWIM_UPDATES_MAX 64  //  piggybacked records in one message
#define ZMESH_SWIM_BUCKETS_MAX 64  //  bucket hashes of a digest SYNC / SYNC_REPLY

//  Member states as they travel; the same values as zmesh_peer_state_t.
#define ZMESH_SWIM_STATE_ALIVE   1
#define ZMESH_SWIM_STATE_SUSPECT 2
#define ZMESH_SWIM_STATE_DEAD    3
#define ZMESH_SWIM_STATE_LEFT    4

typedef enum {
    ZMESH_SWIM_PING = 1,
    ZMESH_SWIM_ACK = 2,
    ZMESH_SWIM_PING_REQ = 3,
    ZMESH_SWIM_NACK = 4,
    ZMESH_SWIM_JOIN = 5,
    ZMESH_SWIM_FORWARD_JOIN = 6,
    ZMESH_SWIM_NEIGHBOR = 7,
    ZMESH_SWIM_DISCONNECT = 8,
    ZMESH_SWIM_SHUFFLE = 9,
    ZMESH_SWIM_SHUFFLE_REPLY = 10,
    ZMESH_SWIM_GOSSIP = 11,
    ZMESH_SWIM_SYNC = 12,
    ZMESH_SWIM_SYNC_REPLY = 13,
    ZMESH_SWIM_TYPE_MAX = 13
} zmesh_swim_msg_type_t;

//  PING flags
#define ZMESH_SWIM_PING_INDIRECT  0x01  //  sent on behalf of a PING_REQ
#define ZMESH_SWIM_PING_RECONNECT 0x02  //  a probe of a member I hold DEAD (partition healing)
//  NACK flags
#define ZMESH_SWIM_NACK_REFUSED 0x01  //  I have no link to the target: no probe was sent
//  NEIGHBOR flags
#define ZMESH_SWIM_NEIGHBOR_REQUEST 0x01  //  please take me into your active view
#define ZMESH_SWIM_NEIGHBOR_HIGH    0x02  //  REQUEST: I have no active neighbour; do not refuse
#define ZMESH_SWIM_NEIGHBOR_ACCEPT  0x04  //  I took you into my active view: take me into yours
#define ZMESH_SWIM_NEIGHBOR_REJECT  0x08  //  REQUEST refused (my active view is full)
//  SYNC flags
#define ZMESH_SWIM_SYNC_ALL    0x01  //  I am bootstrapping: I will ask for every page
#define ZMESH_SWIM_SYNC_DIGEST 0x02  //  only the records of the buckets that differ from mine

#define ZMESH_SWIM_NAME_MAX 64  //  bytes of a contact's name, NUL included

//  How to reach a node, and what to call it: filled by the shell, carried opaquely (only sizes
//  are checked).
typedef struct {
    uint8_t key [ZMESH_KEY_SIZE];        //  the node's public key (CURVE needs it to connect)
    char endpoint [ZMESH_ENDPOINT_MAX];  //  where it listens, NUL-terminated, non-empty
    char name [ZMESH_SWIM_NAME_MAX];     //  its name for people, NUL-terminated, may be empty
} zmesh_swim_contact_t;

//  One member's state as it travels (an update, a view entry, a page of a table).
typedef struct {
    zmesh_id_t id;
    uint64_t generation;   //  grows at each restart of the node; higher supersedes all
    uint32_t incarnation;  //  grows when the node refutes a suspicion, within a generation
    uint8_t state;         //  ZMESH_SWIM_STATE_*
    bool has_contact;      //  ALIVE only: contact is valid
    zmesh_swim_contact_t contact;
    zmesh_id_t accuser;  //  SUSPECT only: who suspects it (Lifeguard counts distinct ones)
} zmesh_swim_record_t;

//  A decoded or to-be-encoded message. The record arrays are borrowed: for a decoded message
//  they point into the zmesh_swim_space_t given to the decoder; for a message the core sends,
//  into the core's scratch (valid until its next step).
typedef struct {
    uint8_t type;  //  zmesh_swim_msg_type_t
    uint64_t generation;
    uint32_t incarnation;
    uint64_t seq;              //  PING, ACK, PING_REQ, NACK
    zmesh_id_t target;         //  PING, ACK, PING_REQ, NACK
    uint8_t flags;             //  PING, NACK, NEIGHBOR, SYNC
    uint8_t ttl;               //  FORWARD_JOIN, SHUFFLE
    uint32_t cursor;           //  SYNC: where to start; SYNC_REPLY: next start, 0 = done
    uint64_t digest;           //  PING, ACK: hash of the sender's table (0: none)
    uint64_t state;            //  PING, ACK: the shell's word (0: none; the core sets none)
    uint32_t bucket_count;     //  SYNC, SYNC_REPLY: 0, or a power of two <= BUCKETS_MAX
    const uint32_t *buckets;   //  SYNC, SYNC_REPLY: bucket hashes of the sender's table
    zmesh_swim_record_t node;  //  JOIN, FORWARD_JOIN, NEIGHBOR, SHUFFLE: the subject node
    uint32_t entry_count;      //  SHUFFLE, SHUFFLE_REPLY, SYNC_REPLY: 0..ENTRIES_MAX
    const zmesh_swim_record_t *entries;
    uint32_t update_count;  //  0..ZMESH_SWIM_UPDATES_MAX
    const zmesh_swim_record_t *updates;
} zmesh_swim_msg_t;

//  Storage a decoded message's arrays point into.
typedef struct {
    zmesh_swim_record_t entries [ZMESH_SWIM_ENTRIES_MAX];
    zmesh_swim_record_t updates [ZMESH_SWIM_UPDATES_MAX];
    uint32_t buckets [ZMESH_SWIM_BUCKETS_MAX];
} zmesh_swim_space_t;

//  Encode msg into buf (capacity bytes); sets *size. ZMESH_ETOOBIG if it does not fit,
//  ZMESH_EINVAL if msg holds values the codec refuses (counts over the limits, bad states).
int
zmesh_swim_msg_encode (const zmesh_swim_msg_t *msg, uint8_t *buf, size_t capacity, size_t *size);
//  Decode exactly size bytes into msg, whose arrays point into space. Errors: see above.
int zmesh_swim_msg_decode (zmesh_swim_msg_t *msg,
                           zmesh_swim_space_t *space,
                           const uint8_t *data,
                           size_t size);
//  Exact encoded size of one record, and an upper bound of a message without its records
//  (header, body fields, both array headers): the core packs messages within a byte budget
//  with these, so an encoded message never exceeds the budget.
size_t zmesh_swim_record_size (const zmesh_swim_record_t *record);
#define ZMESH_SWIM_MSG_OVERHEAD_MAX 96  //  buckets not included: 3 + 4 per bucket more
//  "PING", "ACK", ...; "UNKNOWN" for other values.
const char *zmesh_swim_msg_type_name (int type);

#endif
