/*  zmesh_topology.c: link-graph figures (see zmesh_topology.h). */
#include "zmesh_topology.h"
#include "zmesh_error.h"
#include <stdlib.h>
#include <string.h>

//  Compressed adjacency: the neighbours of v are adj [off [v]] .. adj [off [v + 1] - 1].
typedef struct {
    uint32_t n;
    uint32_t *off;  //  n + 1 entries
    uint32_t *adj;  //  2 * edges entries
} s_graph_t;

static int
s_edge_compare (const void *x, const void *y)
{
    const zmesh_edge_t *a = (const zmesh_edge_t *) x, *b = (const zmesh_edge_t *) y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

//  Clean the edge list (no self-loops, no duplicates) and build the adjacency.
static int
s_graph_build (s_graph_t *g, uint32_t n, const zmesh_edge_t *edges, size_t count, uint32_t *kept)
{
    zmesh_edge_t *clean = malloc ((count ? count : 1) * sizeof *clean);
    g->n = n;
    g->off = calloc ((size_t) n + 1, sizeof *g->off);
    if (!clean || !g->off) {
        free (clean);
        return ZMESH_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < count; i++) {
        if (edges [i].a >= n || edges [i].b >= n) {
            free (clean);
            return ZMESH_EINVAL;
        }
        if (edges [i].a == edges [i].b)
            continue;
        clean [m].a = edges [i].a < edges [i].b ? edges [i].a : edges [i].b;
        clean [m].b = edges [i].a < edges [i].b ? edges [i].b : edges [i].a;
        m++;
    }
    qsort (clean, m, sizeof *clean, s_edge_compare);
    size_t unique = 0;
    for (size_t i = 0; i < m; i++)
        if (unique == 0 || s_edge_compare (&clean [unique - 1], &clean [i]) != 0)
            clean [unique++] = clean [i];
    g->adj = malloc ((unique ? unique : 1) * 2 * sizeof *g->adj);
    if (!g->adj) {
        free (clean);
        return ZMESH_ENOMEM;
    }
    for (size_t i = 0; i < unique; i++) {
        g->off [clean [i].a + 1]++;
        g->off [clean [i].b + 1]++;
    }
    for (uint32_t v = 0; v < n; v++)
        g->off [v + 1] += g->off [v];
    uint32_t *fill = calloc (n ? n : 1, sizeof *fill);
    if (!fill) {
        free (clean);
        return ZMESH_ENOMEM;
    }
    for (size_t i = 0; i < unique; i++) {
        g->adj [g->off [clean [i].a] + fill [clean [i].a]++] = clean [i].b;
        g->adj [g->off [clean [i].b] + fill [clean [i].b]++] = clean [i].a;
    }
    free (fill);
    free (clean);
    *kept = (uint32_t) unique;
    return ZMESH_OK;
}

//  BFS from source, skipping node `skip` (UINT32_MAX: none). Fills dist (UINT32_MAX =
//  unreached); returns the number of nodes reached; *far = largest distance, *sum = sum.
static uint32_t
s_bfs (const s_graph_t *g,
       uint32_t source,
       uint32_t skip,
       uint32_t *dist,
       uint32_t *queue,
       uint32_t *far,
       uint64_t *sum)
{
    for (uint32_t v = 0; v < g->n; v++)
        dist [v] = UINT32_MAX;
    uint32_t head = 0, tail = 0;
    dist [source] = 0;
    queue [tail++] = source;
    *far = 0;
    *sum = 0;
    while (head < tail) {
        uint32_t v = queue [head++];
        for (uint32_t i = g->off [v]; i < g->off [v + 1]; i++) {
            uint32_t w = g->adj [i];
            if (w == skip || dist [w] != UINT32_MAX)
                continue;
            dist [w] = dist [v] + 1;
            *far = dist [w] > *far ? dist [w] : *far;
            *sum += dist [w];
            queue [tail++] = w;
        }
    }
    return tail;
}

static double
s_clustering (const s_graph_t *g, uint8_t *mark)
{
    double total = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        uint32_t degree = g->off [v + 1] - g->off [v];
        if (degree < 2)
            continue;
        for (uint32_t i = g->off [v]; i < g->off [v + 1]; i++)
            mark [g->adj [i]] = 1;
        uint64_t links = 0;  //  each link among neighbours is seen twice
        for (uint32_t i = g->off [v]; i < g->off [v + 1]; i++) {
            uint32_t u = g->adj [i];
            for (uint32_t j = g->off [u]; j < g->off [u + 1]; j++)
                links += mark [g->adj [j]];
        }
        for (uint32_t i = g->off [v]; i < g->off [v + 1]; i++)
            mark [g->adj [i]] = 0;
        total += (double) links / ((double) degree * (degree - 1));
    }
    return g->n ? total / g->n : 0;
}

//  Articulation points by an iterative DFS (Hopcroft-Tarjan low-link): no recursion, so a
//  long path cannot overflow the stack. is_cut [v] set for each.
static int
s_articulation (const s_graph_t *g, uint8_t *is_cut)
{
    uint32_t n = g->n;
    uint32_t *disc = calloc (n, sizeof *disc), *low = calloc (n, sizeof *low);
    uint32_t *parent = malloc (n * sizeof *parent), *next = calloc (n, sizeof *next);
    uint32_t *stack = malloc (n * sizeof *stack), *children = calloc (n, sizeof *children);
    int rc = (disc && low && parent && next && stack && children) ? ZMESH_OK : ZMESH_ENOMEM;
    uint32_t time = 0;
    for (uint32_t root = 0; rc == 0 && root < n; root++) {
        if (disc [root])
            continue;
        uint32_t top = 0;
        stack [top++] = root;
        parent [root] = UINT32_MAX;
        disc [root] = low [root] = ++time;
        next [root] = g->off [root];
        while (top) {
            uint32_t v = stack [top - 1];
            if (next [v] < g->off [v + 1]) {
                uint32_t w = g->adj [next [v]++];
                if (!disc [w]) {
                    parent [w] = v;
                    children [v]++;
                    disc [w] = low [w] = ++time;
                    next [w] = g->off [w];
                    stack [top++] = w;
                }
                else if (w != parent [v] && disc [w] < low [v])
                    low [v] = disc [w];
                continue;
            }
            top--;  //  v is done: report to its parent
            uint32_t p = parent [v];
            if (p == UINT32_MAX) {
                if (children [v] > 1)
                    is_cut [v] = 1;
                continue;
            }
            if (low [v] < low [p])
                low [p] = low [v];
            if (parent [p] != UINT32_MAX && low [v] >= disc [p])
                is_cut [p] = 1;
        }
    }
    free (disc);
    free (low);
    free (parent);
    free (next);
    free (stack);
    free (children);
    return rc;
}

//  The share of the other nodes the failure of `a` would cut off from the largest part left.
static double
s_cut_share (const s_graph_t *g, uint32_t a, uint32_t *dist, uint32_t *queue)
{
    uint32_t largest = 0, seen = 0, far;
    uint64_t sum;
    uint8_t *done = calloc (g->n, 1);
    if (!done)
        return 1.0;  //  cannot tell: assume the worst
    for (uint32_t v = 0; v < g->n && seen < g->n - 1; v++) {
        if (v == a || done [v])
            continue;
        uint32_t reached = s_bfs (g, v, a, dist, queue, &far, &sum);
        for (uint32_t i = 0; i < reached; i++)
            done [queue [i]] = 1;
        seen += reached;
        largest = reached > largest ? reached : largest;
    }
    free (done);
    return (double) (g->n - 1 - largest) / (double) (g->n - 1);
}

static void
s_distances (const s_graph_t *g, zmesh_topology_stats_t *stats, uint32_t *dist, uint32_t *queue)
{
    uint64_t total = 0, pairs = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        uint32_t far;
        uint64_t sum;
        uint32_t reached = s_bfs (g, v, UINT32_MAX, dist, queue, &far, &sum);
        stats->diameter = far > stats->diameter ? far : stats->diameter;
        total += sum;
        pairs += reached - 1;
    }
    stats->avg_path_length = pairs ? (double) total / (double) pairs : 0;
}

static void
s_components (const s_graph_t *g, zmesh_topology_stats_t *stats, uint32_t *dist, uint32_t *queue)
{
    uint8_t *done = calloc (g->n ? g->n : 1, 1);
    ZMESH_ASSERT (done);
    for (uint32_t v = 0; v < g->n; v++) {
        if (done [v])
            continue;
        uint32_t far;
        uint64_t sum;
        uint32_t reached = s_bfs (g, v, UINT32_MAX, dist, queue, &far, &sum);
        for (uint32_t i = 0; i < reached; i++)
            done [queue [i]] = 1;
        stats->components++;
        if (reached > stats->largest_component)
            stats->largest_component = reached;
    }
    free (done);
}

int
zmesh_topology_analyse (uint32_t node_count,
                        const zmesh_edge_t *edges,
                        size_t edge_count,
                        zmesh_topology_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    if (node_count > ZMESH_TOPOLOGY_NODES_MAX || edge_count > ZMESH_TOPOLOGY_EDGES_MAX)
        return ZMESH_ELIMIT;
    s_graph_t g = {0};
    int rc = s_graph_build (&g, node_count, edges, edge_count, &stats->edge_count);
    uint32_t *dist = malloc ((node_count ? node_count : 1) * sizeof *dist);
    uint32_t *queue = malloc ((node_count ? node_count : 1) * sizeof *queue);
    uint8_t *mark = calloc (node_count ? node_count : 1, 1);
    stats->degree = calloc (node_count ? node_count : 1, sizeof *stats->degree);
    stats->articulation = calloc (node_count ? node_count : 1, sizeof *stats->articulation);
    if (rc == 0 && (!dist || !queue || !mark || !stats->degree || !stats->articulation))
        rc = ZMESH_ENOMEM;
    if (rc == 0) {
        stats->node_count = node_count;
        stats->degree_min = node_count ? UINT32_MAX : 0;
        for (uint32_t v = 0; v < node_count; v++) {
            uint32_t d = stats->degree [v] = g.off [v + 1] - g.off [v];
            stats->degree_min = d < stats->degree_min ? d : stats->degree_min;
            stats->degree_max = d > stats->degree_max ? d : stats->degree_max;
        }
        stats->degree_avg = node_count ? 2.0 * stats->edge_count / node_count : 0;
        s_components (&g, stats, dist, queue);
        s_distances (&g, stats, dist, queue);
        stats->clustering = s_clustering (&g, mark);
        memset (mark, 0, node_count);
        rc = s_articulation (&g, mark);
    }
    if (rc == 0) {
        for (uint32_t v = 0; v < node_count; v++)
            if (mark [v])
                stats->articulation [stats->articulation_count++] = v;
        if (stats->components > 1)
            stats->partition_risk = 1.0;
        else
            for (uint32_t i = 0; i < stats->articulation_count; i++) {
                double share = s_cut_share (&g, stats->articulation [i], dist, queue);
                if (share > stats->partition_risk)
                    stats->partition_risk = share;
            }
    }
    free (g.off);
    free (g.adj);
    free (dist);
    free (queue);
    free (mark);
    if (rc)
        zmesh_topology_stats_fini (stats);
    return rc;
}

void
zmesh_topology_stats_fini (zmesh_topology_stats_t *stats)
{
    free (stats->degree);
    free (stats->articulation);
    stats->degree = NULL;
    stats->articulation = NULL;
}
