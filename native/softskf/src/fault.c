/* fault.c - fault injection driven by the SOFTSKF_FAULTS environment variable.
 *
 *   SOFTSKF_FAULTS="SKF_ECCSignData:2:0x0A000001,SKF_DecryptUpdate:3:remove"
 *
 * Each entry is FUNCTION:N:ACTION. On the N-th call (1-based, counted per
 * function since the library was loaded) of FUNCTION the ACTION happens:
 *   <number>  return that SAR code (hex 0x.. or decimal) instead of running
 *   remove    delete the device's `present` file, return SAR_DEVICE_REMOVED
 *   crash     abort() the process
 *   hang      block forever (holding the library lock)
 *   chatter   print "softskf-debug: $SOFTSKF_CHATTER" to stdout and stderr, as a
 *             vendor's debug log would, then run the call normally
 * The variable is read at load time and re-read whenever its value changes.
 * Called with the global lock held. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char fn[64];
    unsigned long n;
    int action;
    ULONG code;
} fault_t;

typedef struct {
    char fn[64];
    unsigned long count;
} counter_t;

static char *g_env_copy;   /* last seen value, NULL = unset */
static fault_t *g_faults;
static int g_nfaults;
static counter_t *g_counters;
static int g_ncounters, g_capcounters;

static void parse(const char *spec)
{
    char *s, *tok, *save = NULL;
    free(g_faults);
    g_faults = NULL;
    g_nfaults = 0;
    if (!spec || !*spec) return;
    s = strdup(spec);
    if (!s) return;
    for (tok = sskf_strtok(s, ",; \t\n", &save); tok; tok = sskf_strtok(NULL, ",; \t\n", &save)) {
        char *c1 = strchr(tok, ':'), *c2, *end;
        fault_t f;
        fault_t *nf;
        memset(&f, 0, sizeof f);
        if (!c1) continue;
        c2 = strchr(c1 + 1, ':');
        if (!c2) continue;
        *c1 = 0;
        *c2 = 0;
        if (strlen(tok) >= sizeof f.fn) continue;
        strcpy(f.fn, tok);
        f.n = strtoul(c1 + 1, &end, 10);
        if (*end || f.n == 0) continue;
        if (!strcmp(c2 + 1, "remove")) f.action = FAULT_REMOVE;
        else if (!strcmp(c2 + 1, "crash")) f.action = FAULT_CRASH;
        else if (!strcmp(c2 + 1, "hang")) f.action = FAULT_HANG;
        else if (!strcmp(c2 + 1, "chatter")) f.action = FAULT_CHATTER;
        else {
            f.code = (ULONG)strtoul(c2 + 1, &end, 0);
            if (*end || c2[1] == 0) continue;
            f.action = FAULT_CODE;
        }
        nf = realloc(g_faults, sizeof(fault_t) * (size_t)(g_nfaults + 1));
        if (!nf) break;
        g_faults = nf;
        g_faults[g_nfaults++] = f;
    }
    free(s);
}

void fault_reload_if_changed(void)
{
    const char *env = getenv("SOFTSKF_FAULTS");
    if (!env && !g_env_copy) return;
    if (env && g_env_copy && !strcmp(env, g_env_copy)) return;
    free(g_env_copy);
    g_env_copy = env ? strdup(env) : NULL;
    parse(g_env_copy);
}

void fault_cleanup(void)
{
    free(g_env_copy);
    g_env_copy = NULL;
    free(g_faults);
    g_faults = NULL;
    g_nfaults = 0;
    free(g_counters);
    g_counters = NULL;
    g_ncounters = g_capcounters = 0;
}

int fault_tick(const char *fn, ULONG *code)
{
    int i;
    unsigned long count = 0;
    fault_reload_if_changed();
    for (i = 0; i < g_ncounters; i++)
        if (!strcmp(g_counters[i].fn, fn)) break;
    if (i == g_ncounters) {
        if (g_ncounters == g_capcounters) {
            int cap = g_capcounters ? g_capcounters * 2 : 32;
            counter_t *nc = realloc(g_counters, sizeof(counter_t) * (size_t)cap);
            if (!nc) return FAULT_NONE;
            g_counters = nc;
            g_capcounters = cap;
        }
        memset(&g_counters[i], 0, sizeof g_counters[i]);
        snprintf(g_counters[i].fn, sizeof g_counters[i].fn, "%s", fn);
        g_ncounters++;
    }
    count = ++g_counters[i].count;
    for (i = 0; i < g_nfaults; i++) {
        if (g_faults[i].n == count && !strcmp(g_faults[i].fn, fn)) {
            *code = g_faults[i].code;
            return g_faults[i].action;
        }
    }
    return FAULT_NONE;
}
