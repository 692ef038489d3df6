/*  zmesh_metrics.c: the names behind the counter table (see zmesh_metrics.h). */
#include "zmesh_metrics.h"

static const zmesh_metric_info_t s_info [ZMESH_M_COUNT] = {
#define ZMESH_METRIC_INFO(id, name, labels, help) {name, labels, help},
    ZMESH_METRICS (ZMESH_METRIC_INFO)
#undef ZMESH_METRIC_INFO
};

const zmesh_metric_info_t *
zmesh_metric_info (zmesh_metric_t metric)
{
    return &s_info [metric];
}
