/*  zmesh_actors.h: the actors of a node and the pipe protocol between them and the supervisor.

    Each actor is a CZMQ actor (zactor_new (fn, ctx) with a zmesh_node_ctx_t * as args).
    Start handshake: the actor signals at once (zsock_signal (pipe, 0)), sets itself up, then
    sends one string: "READY", or "FAILED" followed by a frame with the reason; after FAILED it
    returns. The supervisor waits for that string (bounded) before starting the next actor.

    Supervisor -> actor (all actors):
        "$TERM"                       stop now
        "FAULT"                       test hook: return at once as if the actor had crashed
    Supervisor -> gossip:
        "JOIN" contact                connect to "tcp://HOST:PORT#KEY"
        "PEER" key(32 bytes) endpoint a node found by the beacon
        "TRUST"                       the trust store changed: retry peers waiting for it
        "PROFILE" bytes               this node's encoded profile, for the gossip state (health)
        "WORK" bytes                  this node's zmesh.work value, for the gossip state (worker)
        "LEAVE"                       tell every peer we are leaving; answers "LEFT"
    Actor -> supervisor:
        "ROUTE" actor command args... forward [command args...] to that actor's pipe
        "EVENT" type id name endpoint from to key value
                                      an event for the node's listeners: membership (type
                                      "joined", "state", "left", "forgotten"; key, value "")
                                      or node state (type "set", "delete", "drop"; id the owner)
    An actor that returns without $TERM has died: the supervisor restarts it with back-off.
*/
#ifndef ZMESH_ACTORS_H_INCLUDED
#define ZMESH_ACTORS_H_INCLUDED

#include <czmq.h>

void zmesh_gossip_actor (zsock_t *pipe, void *args);
void zmesh_beacon_actor (zsock_t *pipe, void *args);
void zmesh_control_actor (zsock_t *pipe, void *args);
void zmesh_health_actor (zsock_t *pipe, void *args);
void zmesh_worker_actor (zsock_t *pipe, void *args);
void zmesh_balancer_actor (zsock_t *pipe, void *args);
//  The supervisor: args is the zmesh_node_ctx_t *. Its own API pipe protocol:
//      "START"  -> "READY" | "FAILED" reason   start the configured actors in order
//      "STOP"   -> "STOPPED"                   LEAVE, then stop actors in reverse order
//      "JOIN" contact, "TRUST", "FAULT" actor  forwarded as above
//  Events go out on a PUSH socket connected to the endpoint in env "events endpoint" given by
//  zmesh_supervisor_actor's args (see zmesh_node.c).
void zmesh_supervisor_actor (zsock_t *pipe, void *args);

//  Name the calling thread "zm-NAME" (ps -L, top -H, perf), NAME at most 12 bytes.
void zmesh_actor_name (const char *name);
//  Common start handshake for actors (see above).
void zmesh_actor_ready (zsock_t *pipe);
void zmesh_actor_failed (zsock_t *pipe, const char *reason);

#endif
