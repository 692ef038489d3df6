/*  zmesh_topology.h: figures of a mesh's link graph, for `zmeshctl topology`.

    Input: an undirected graph, nodes 0..N-1 and a list of edges (duplicates and self-loops
    are ignored). Output: degree per node, connected components, diameter and average path
    length (over connected pairs, by BFS from every node: O(N·E), fine for a few thousand
    nodes), the average local clustering coefficient (Watts & Strogatz 1998), articulation
    points (Hopcroft & Tarjan 1973, iterative), and a partition-risk figure:

        partition_risk = 1                       if the graph is already disconnected
                       = max over articulation points a of
                         (nodes cut off from the largest part when a fails) / (N - 1)
                       = 0                       if no single node failure splits it

    i.e. the share of the mesh that the worst single node failure would isolate. Pure: no
    I/O; memory allocated here is freed by zmesh_topology_stats_fini.
*/
#ifndef ZMESH_TOPOLOGY_H_INCLUDED
#define ZMESH_TOPOLOGY_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define ZMESH_TOPOLOGY_NODES_MAX 65536  //  larger graphs are ZMESH_ELIMIT
#define ZMESH_TOPOLOGY_EDGES_MAX 1048576

typedef struct {
    uint32_t a, b;  //  node indices, < node_count
} zmesh_edge_t;

typedef struct {
    uint32_t node_count;
    uint32_t edge_count;  //  distinct undirected edges after cleaning
    uint32_t *degree;     //  node_count entries
    uint32_t degree_min, degree_max;
    double degree_avg;
    uint32_t components;         //  connected components (an isolated node is one)
    uint32_t largest_component;  //  nodes in the largest one
    uint32_t diameter;           //  longest shortest path within any component (hops)
    double avg_path_length;      //  mean shortest path over connected ordered pairs; 0 if none
    double clustering;           //  mean local clustering coefficient (nodes of degree < 2: 0)
    uint32_t articulation_count;
    uint32_t *articulation;  //  node indices, ascending
    double partition_risk;   //  0..1, see above
} zmesh_topology_stats_t;

//  Analyse a graph. ZMESH_EINVAL for an edge naming a node >= node_count, ZMESH_ELIMIT past the
//  bounds above, ZMESH_ENOMEM. On success the caller calls zmesh_topology_stats_fini.
int zmesh_topology_analyse (uint32_t node_count,
                            const zmesh_edge_t *edges,
                            size_t edge_count,
                            zmesh_topology_stats_t *stats);
void zmesh_topology_stats_fini (zmesh_topology_stats_t *stats);

#endif
