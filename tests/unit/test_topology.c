/*  test_topology.c: link-graph figures on graphs whose answers are known by hand. */
#include "zmesh_error.h"
#include "zmesh_topology.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#define S_EPSILON 1e-9

static double
s_abs (double x)
{
    return x < 0 ? -x : x;
}

static void
s_analyse (uint32_t n, const zmesh_edge_t *edges, size_t count, zmesh_topology_stats_t *stats)
{
    assert_int_equal (zmesh_topology_analyse (n, edges, count, stats), ZMESH_OK);
}

//  A path 0-1-2-3: diameter 3, every inner node is a cut point, the worst cuts off 2 of 3.
static void
test_path (void **state)
{
    zmesh_edge_t edges [] = {{0, 1}, {1, 2}, {2, 3}};
    zmesh_topology_stats_t s;
    s_analyse (4, edges, 3, &s);
    assert_int_equal (s.edge_count, 3);
    assert_int_equal (s.components, 1);
    assert_int_equal (s.diameter, 3);
    //  Distances: 1,2,3,1,2,1 over 6 unordered pairs = 10/6.
    assert_true (s_abs (s.avg_path_length - 10.0 / 6.0) < S_EPSILON);
    assert_true (s_abs (s.clustering) < S_EPSILON);
    assert_int_equal (s.articulation_count, 2);
    assert_int_equal (s.articulation [0], 1);
    assert_int_equal (s.articulation [1], 2);
    //  Node 1 failing leaves {0} and {2,3}: 1 of 3 cut off; node 2 likewise.
    assert_true (s_abs (s.partition_risk - 1.0 / 3.0) < S_EPSILON);
    assert_int_equal (s.degree_min, 1);
    assert_int_equal (s.degree_max, 2);
    zmesh_topology_stats_fini (&s);
    assert_null (s.degree);
}

//  A ring of 6: no single failure splits it; clustering 0; diameter 3.
static void
test_ring (void **state)
{
    zmesh_edge_t edges [6];
    for (uint32_t i = 0; i < 6; i++)
        edges [i] = (zmesh_edge_t){i, (i + 1) % 6};
    zmesh_topology_stats_t s;
    s_analyse (6, edges, 6, &s);
    assert_int_equal (s.diameter, 3);
    assert_int_equal (s.articulation_count, 0);
    assert_true (s_abs (s.partition_risk) < S_EPSILON);
    assert_true (s_abs (s.degree_avg - 2.0) < S_EPSILON);
    zmesh_topology_stats_fini (&s);
}

//  A complete graph K5: clustering 1, diameter 1, average path 1.
static void
test_complete (void **state)
{
    zmesh_edge_t edges [10];
    size_t count = 0;
    for (uint32_t a = 0; a < 5; a++)
        for (uint32_t b = a + 1; b < 5; b++)
            edges [count++] = (zmesh_edge_t){a, b};
    zmesh_topology_stats_t s;
    s_analyse (5, edges, count, &s);
    assert_true (s_abs (s.clustering - 1.0) < S_EPSILON);
    assert_int_equal (s.diameter, 1);
    assert_true (s_abs (s.avg_path_length - 1.0) < S_EPSILON);
    zmesh_topology_stats_fini (&s);
}

//  Two triangles sharing node 2 (a bow tie): node 2 is the one cut point, cutting off 2 of 4.
static void
test_bow_tie (void **state)
{
    zmesh_edge_t edges [] = {{0, 1}, {1, 2}, {2, 0}, {2, 3}, {3, 4}, {4, 2}};
    zmesh_topology_stats_t s;
    s_analyse (5, edges, 6, &s);
    assert_int_equal (s.articulation_count, 1);
    assert_int_equal (s.articulation [0], 2);
    assert_true (s_abs (s.partition_risk - 0.5) < S_EPSILON);
    //  Local clustering: 1,1,(2 links of 6 pairs)=1/3,1,1 -> mean 13/15.
    assert_true (s_abs (s.clustering - (4 + 1.0 / 3.0) / 5.0) < S_EPSILON);
    zmesh_topology_stats_fini (&s);
}

//  Duplicates and self-loops are ignored; a disconnected graph has risk 1.
static void
test_messy_and_disconnected (void **state)
{
    zmesh_edge_t edges [] = {{0, 1}, {1, 0}, {0, 1}, {2, 2}, {3, 4}};
    zmesh_topology_stats_t s;
    s_analyse (5, edges, 5, &s);
    assert_int_equal (s.edge_count, 2);
    assert_int_equal (s.components, 3);  //  {0,1}, {2}, {3,4}
    assert_int_equal (s.largest_component, 2);
    assert_true (s_abs (s.partition_risk - 1.0) < S_EPSILON);
    assert_int_equal (s.degree_min, 0);
    zmesh_topology_stats_fini (&s);
}

//  Bad input: an edge naming a node that does not exist; graphs past the bounds.
static void
test_bad_input (void **state)
{
    zmesh_edge_t edges [] = {{0, 7}};
    zmesh_topology_stats_t s;
    assert_int_equal (zmesh_topology_analyse (3, edges, 1, &s), ZMESH_EINVAL);
    assert_int_equal (zmesh_topology_analyse (ZMESH_TOPOLOGY_NODES_MAX + 1, NULL, 0, &s),
                      ZMESH_ELIMIT);
    assert_int_equal (zmesh_topology_analyse (0, NULL, 0, &s), ZMESH_OK);
    assert_int_equal (s.components, 0);
    zmesh_topology_stats_fini (&s);
}

//  A long path (deep DFS) and a random 4-regular-ish mesh of 2000 nodes: no stack overflow,
//  sane figures.
static void
test_large (void **state)
{
    uint32_t n = 5000;
    zmesh_edge_t *edges = malloc ((n - 1) * sizeof *edges);
    for (uint32_t i = 0; i + 1 < n; i++)
        edges [i] = (zmesh_edge_t){i, i + 1};
    zmesh_topology_stats_t s;
    s_analyse (n, edges, n - 1, &s);
    assert_int_equal (s.articulation_count, n - 2);
    assert_int_equal (s.diameter, n - 1);
    zmesh_topology_stats_fini (&s);
    free (edges);

    n = 2000;
    edges = malloc (n * 2 * sizeof *edges);
    uint64_t x = 12345;
    for (uint32_t i = 0; i < n; i++) {
        edges [2 * i] = (zmesh_edge_t){i, (i + 1) % n};  //  a ring keeps it connected
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        edges [2 * i + 1] = (zmesh_edge_t){i, (uint32_t) ((x >> 33) % n)};
    }
    s_analyse (n, edges, n * 2, &s);
    assert_int_equal (s.components, 1);
    assert_true (s.diameter < 30);
    assert_true (s.avg_path_length > 2 && s.avg_path_length < 15);
    assert_true (s_abs (s.partition_risk) < S_EPSILON);
    zmesh_topology_stats_fini (&s);
    free (edges);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_path),
        cmocka_unit_test (test_ring),
        cmocka_unit_test (test_complete),
        cmocka_unit_test (test_bow_tie),
        cmocka_unit_test (test_messy_and_disconnected),
        cmocka_unit_test (test_bad_input),
        cmocka_unit_test (test_large),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
