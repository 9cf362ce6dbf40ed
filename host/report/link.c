#include "report/link.h"

#include <string.h>

/* Bandwidths are the standards' line rates less their encoding and framing;
 * latencies are typical figures, not measured here (no cards, no network). */
static const sq_link_t links[] = {
    {"pcie3x16",
     "PCIe 3.0: 8 GT/s x 16 lanes, 128b/130b encoding = 15.75 GB/s; 256-byte TLP payloads "
     "with 24 bytes of header, sequence number, LCRC and framing each = 14.40 GB/s; ~1 us for "
     "a peer-to-peer write through the root complex (typical, assumed)",
     8.0 * 16 * 128 / 130 / 8 * 256 / (256 + 24), 1.0},
    {"100gbe",
     "100 GbE (IEEE 802.3 100GBASE-R over QSFP28): 12.5 GB/s line rate; 9000-byte frames with "
     "38 bytes of preamble, header, FCS and gap and 28 of IP/UDP headers = 12.41 GB/s; ~1 us "
     "port to port for a direct card-to-card cable through the MAC and PCS (typical, assumed)",
     12.5 * (9000.0 - 28.0) / (9000.0 + 38.0), 1.0},
};

const sq_link_t *sq_link_find(const char *name)
{
    if (!name)
        return &links[0];
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (!strcmp(name, links[i].name))
            return &links[i];
    return NULL;
}

const char *sq_link_names(void)
{
    return "pcie3x16, 100gbe";
}

double sq_link_time_s(const sq_link_t *l, uint64_t bytes)
{
    return l->latency_us * 1e-6 + (double)bytes / (l->gbps * 1e9);
}

double sq_link_allreduce_s(const sq_link_t *l, uint64_t bytes, int p)
{
    if (p <= 1)
        return 0;
    uint64_t chunk = (bytes + (uint64_t)p - 1) / (uint64_t)p;
    return 2.0 * (p - 1) * sq_link_time_s(l, chunk);
}
