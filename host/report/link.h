/* Links between devices, for the multi-device latency model (issue 13): a
 * message of n bytes takes latency + n / bandwidth, and a collective is a
 * sequence of such messages. The parameters are plain numbers so a user can
 * describe any link; the named defaults say where their figures come from. */
#ifndef SQ_LINK_H
#define SQ_LINK_H

#include <stdint.h>

typedef struct {
    const char *name;
    const char *source;  /* where the figures come from */
    double gbps;         /* payload bandwidth, GB/s (1e9 bytes/s), each direction */
    double latency_us;   /* per message, first byte sent to first byte usable */
} sq_link_t;

/* The named links; NULL gives the default ("pcie3x16"), an unknown name NULL:
 *   pcie3x16  PCIe Gen3 x16 peer-to-peer between cards in one host
 *   100gbe    100 GbE over QSFP28 between cards (Alveo U250/U280 ports) */
const sq_link_t *sq_link_find(const char *name);
/* "pcie3x16, 100gbe" for help and error texts. */
const char *sq_link_names(void);

/* Seconds to move n bytes from one device to another. */
double sq_link_time_s(const sq_link_t *l, uint64_t bytes);
/* Seconds of a ring all-reduce of n bytes over p devices: a reduce-scatter
 * and an all-gather, 2 (p - 1) steps each moving ceil(n / p) bytes between
 * neighbours at once (Patarasuk and Yuan 2009); 0 for p <= 1. */
double sq_link_allreduce_s(const sq_link_t *l, uint64_t bytes, int p);

#endif
