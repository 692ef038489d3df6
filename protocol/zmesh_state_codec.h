/*  zmesh_state_codec.h: the wire form of the state messages (DIGEST, DELTAS, SUMMARY).

    One message is one msgpack array (this body travels inside the zmesh envelope, whose
    header adds the version, the type and the sender; docs/protocol.md will carry the text):

        DIGEST  [ 1, lo: bin 16, hi: bin 16, [ entry, ... ] ]
        DELTAS  [ 2, [ entry, ... ] (requests), [ run, ... ] ]
        SUMMARY [ 3, [ entry, ... ], [ summary, ... ] ]
        entry   [ owner: bin 16, generation: uint, version: uint, floor: uint ]
        run     [ owner: bin 16, generation: uint, from: uint, to: uint, held: uint,
                  floor: uint, [ delta, ... ] ]
        delta   [ key: str, version: uint, value: bin | nil (nil: deleted) ]
        summary [ lo: bin 16, hi: bin 16, count: uint, hash: uint ]

    Rules (zmesh_state_msg_check): DIGEST and SUMMARY entries have ascending, distinct owner
    ids, and lo <= hi (entries outside [lo, hi] are extra: the range only says that no owner in
    it is missing); SUMMARY summaries have lo <= hi, ascending and disjoint ranges (one's hi
    below the next one's lo), and hash 0 when count is 0 (what they mean: zmesh_state.h,
    zmesh_state_summary_t); a run has from <= to <= held and its deltas strictly ascending
    versions in
    (from, to]; a key is 1..ZMESH_STATE_KEY_SIZE_LIMIT printable ASCII bytes (0x20..0x7e); a
    value is at most ZMESH_STATE_VALUE_SIZE_LIMIT bytes; counts are within
    ZMESH_STATE_MSG_*_MAX. The configurable bounds (key and value size, keys per owner...) are
    the core's business.

    Decoding is strict: every field's type and size is checked; an array may carry more
    elements than this version knows (they are skipped, for forward compatibility); bytes after
    the message are refused. ZMESH_EPROTO for anything malformed, ZMESH_ETOOBIG for a message
    over ZMESH_STATE_MSG_SIZE_MAX, ZMESH_ELIMIT for counts over the MSG_*_MAX limits,
    ZMESH_ETYPE for an unknown message type. The encoder writes every value in its shortest form,
    so an encoding is canonical.
*/
#ifndef ZMESH_STATE_CODEC_H_INCLUDED
#define ZMESH_STATE_CODEC_H_INCLUDED

#include "zmesh_state.h"
#include <stddef.h>
#include <stdint.h>

//  Upper bounds of the fixed parts, with every array header counted at 3 bytes (a count up to
//  65535), which the MSG_*_MAX limits guarantee.
#define ZMESH_STATE_DIGEST_BASE_SIZE  (1 + 1 + 18 + 18 + 3)  //  array, type, lo, hi, entries
#define ZMESH_STATE_DELTAS_BASE_SIZE  (1 + 1 + 3 + 3)        //  array, type, requests, runs
#define ZMESH_STATE_SUMMARY_BASE_SIZE (1 + 1 + 3 + 3)        //  array, type, entries, summaries
#define ZMESH_STATE_SUMMARY_SIZE_MAX  (1 + 18 + 18 + 9 + 9)  //  one summary, at most

//  Storage for one decoded message (about 150 KB: allocate it once, not on the stack). The
//  message's arrays point into it; keys and values point into the decoded bytes.
typedef struct {
    zmesh_state_msg_t msg;
    zmesh_state_digest_entry_t digest [ZMESH_STATE_MSG_DIGEST_MAX];
    zmesh_state_run_t runs [ZMESH_STATE_MSG_RUNS_MAX];
    zmesh_state_delta_t deltas [ZMESH_STATE_MSG_DELTAS_MAX];
    zmesh_state_summary_t summaries [ZMESH_STATE_MSG_SUMMARIES_MAX];
} zmesh_state_msg_buf_t;

//  Exact encoded sizes of the parts, for building a message within a byte budget.
size_t zmesh_state_uint_size (uint64_t value);
size_t zmesh_state_digest_entry_size (const zmesh_state_digest_entry_t *entry);
//  A run without its deltas (its deltas' array header counted at 3 bytes).
size_t zmesh_state_run_header_size (const zmesh_state_run_t *run);
size_t zmesh_state_delta_size (const zmesh_state_delta_t *delta);
size_t zmesh_state_summary_size (const zmesh_state_summary_t *summary);
//  The exact size of the whole encoded message (of a message that passes the check).
size_t zmesh_state_msg_size (const zmesh_state_msg_t *msg);

//  The hash of one owner's (owner, generation, version) that summaries add up: BLAKE2b
//  (RFC 7693) with an 8-byte digest and no key, over the 16 bytes of the id, then generation
//  and version as 8-byte big-endian integers; the digest read as a little-endian integer.
uint64_t zmesh_state_tuple_hash (const zmesh_id_t *owner, uint64_t generation, uint64_t version);

//  ZMESH_OK if msg keeps the rules above; ZMESH_EPROTO, or ZMESH_ELIMIT for counts.
int zmesh_state_msg_check (const zmesh_state_msg_t *msg);
//  Encode msg into buf (capacity bytes) and set *size. ZMESH_EINVAL if msg breaks the rules,
//  ZMESH_ETOOBIG if it does not fit.
int
zmesh_state_msg_encode (const zmesh_state_msg_t *msg, uint8_t *buf, size_t capacity, size_t *size);
//  Decode exactly size bytes into buf->msg. See the header comment for the errors.
int zmesh_state_msg_decode (zmesh_state_msg_buf_t *buf, const uint8_t *data, size_t size);

#endif
