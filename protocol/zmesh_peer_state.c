/*  zmesh_peer_state.c: names of member states (see zmesh_peer_state.h). */
#include "zmesh_peer_state.h"

const char *
zmesh_peer_state_name (zmesh_peer_state_t state)
{
    switch (state) {
        case ZMESH_PEER_ALIVE:
            return "alive";
        case ZMESH_PEER_SUSPECT:
            return "suspect";
        case ZMESH_PEER_DEAD:
            return "dead";
        case ZMESH_PEER_LEFT:
            return "left";
        default:
            return "none";
    }
}
