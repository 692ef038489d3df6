/*  zmesh_peer_state.h: the states of a member as this node holds it (SWIM, zmesh_swim.h).

    The values are those records carry on the wire (ZMESH_SWIM_STATE_*, zmesh_swim_codec.h);
    NONE is "not in the table" (before it is first heard of, after it is forgotten).
*/
#ifndef ZMESH_PEER_STATE_H_INCLUDED
#define ZMESH_PEER_STATE_H_INCLUDED

typedef enum {
    ZMESH_PEER_NONE = 0,  //  not in the table (before joining, after being forgotten)
    ZMESH_PEER_ALIVE = 1,
    ZMESH_PEER_SUSPECT = 2,
    ZMESH_PEER_DEAD = 3,
    ZMESH_PEER_LEFT = 4
} zmesh_peer_state_t;

//  "alive", "suspect", "dead", "left"; "none" for NONE and any other value.
const char *zmesh_peer_state_name (zmesh_peer_state_t state);

#endif
