/* handles.c - handle registry, entry checks, library constructor/destructor. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#define SSKF_MAGIC 0x534B4648u /* "SKFH" */

static sobj_t g_head = {0, 0, &g_head, &g_head};

void *h_new(int kind, size_t size)
{
    sobj_t *o = calloc(1, size);
    if (!o) return NULL;
    o->magic = SSKF_MAGIC;
    o->kind = kind;
    o->next = &g_head;
    o->prev = g_head.prev;
    g_head.prev->next = o;
    g_head.prev = o;
    return o;
}

/* Handles are validated by looking them up in the registry, so a stale or
 * random pointer is never dereferenced. */
void *h_get(HANDLE h, int kind)
{
    sobj_t *o;
    if (!h) return NULL;
    for (o = g_head.next; o != &g_head; o = o->next)
        if ((void *)o == h) return (o->magic == SSKF_MAGIC && o->kind == kind) ? o : NULL;
    return NULL;
}

sdev_t *h_dev_of(void *obj)
{
    sobj_t *o = obj;
    switch (o->kind) {
    case K_DEV: return (sdev_t *)o;
    case K_APP: return ((sapp_t *)o)->dev;
    case K_CON: return ((scon_t *)o)->app->dev;
    case K_KEY: return ((skey_t *)o)->dev;
    case K_HASH: return ((shash_t *)o)->dev;
    case K_MAC: return ((smac_t *)o)->dev;
    default: return NULL;
    }
}

static int depends_on(sobj_t *o, sobj_t *parent)
{
    if (o == parent) return 0;
    if (parent->kind == K_DEV) return o->kind != K_DEV && (sobj_t *)h_dev_of(o) == parent;
    if (parent->kind == K_APP) return o->kind == K_CON && (sobj_t *)((scon_t *)o)->app == parent;
    return 0;
}

static void free_one(sobj_t *o)
{
    o->prev->next = o->next;
    o->next->prev = o->prev;
    o->magic = 0;
    switch (o->kind) {
    case K_DEV: free(((sdev_t *)o)->dir); break;
    case K_APP: free(((sapp_t *)o)->dir); break;
    case K_CON: free(((scon_t *)o)->dir); break;
    case K_KEY:
        EVP_CIPHER_CTX_free(((skey_t *)o)->ctx);
        secure_zero(((skey_t *)o)->key, 16);
        break;
    case K_HASH: EVP_MD_CTX_free(((shash_t *)o)->md); break;
    case K_MAC: EVP_CIPHER_CTX_free(((smac_t *)o)->ctx); break;
    default: break;
    }
    free(o);
}

void h_free(void *obj)
{
    sobj_t *parent = obj, *o, *next;
    int again = 1;
    /* free dependants first (containers of an app, everything of a device) */
    while (again) {
        again = 0;
        for (o = g_head.next; o != &g_head; o = next) {
            next = o->next;
            if (depends_on(o, parent)) {
                /* a dependant app owns containers too */
                if (o->kind == K_APP) {
                    h_free(o);
                    again = 1;
                    break;
                }
                free_one(o);
            }
        }
    }
    free_one(parent);
}

void h_free_all(void)
{
    while (g_head.next != &g_head) free_one(g_head.next);
}

sdev_t *h_find_locked(const char *dir, sdev_t *except)
{
    sobj_t *o;
    for (o = g_head.next; o != &g_head; o = o->next) {
        sdev_t *d = (sdev_t *)o;
        if (o->kind == K_DEV && d != except && d->locked && !strcmp(d->dir, dir)) return d;
    }
    return NULL;
}

void *h_find_by_dir(int kind, const char *dir)
{
    sobj_t *o;
    for (o = g_head.next; o != &g_head; o = o->next) {
        if (o->kind != kind) continue;
        if (kind == K_APP && !strcmp(((sapp_t *)o)->dir, dir)) return o;
        if (kind == K_CON && !strcmp(((scon_t *)o)->dir, dir)) return o;
    }
    return NULL;
}

/* --------------------------------------------------------------- entry */
int dev_present(sdev_t *d)
{
    if (d->removed) return 0;
    if (!dev_present_file(d->dir)) {
        d->removed = 1;
        return 0;
    }
    return 1;
}

ULONG fault_apply(int action, ULONG code, sdev_t *dev, const char *devdir)
{
    switch (action) {
    case FAULT_CODE: return code;
    case FAULT_REMOVE: {
        const char *dir = dev ? dev->dir : devdir;
        if (dir) {
            char *p = path_join(dir, "present");
            if (p) sskf_unlink(p);
            free(p);
        }
        if (dev) dev->removed = 1;
        return SAR_DEVICE_REMOVED;
    }
    case FAULT_CRASH:
        fprintf(stderr, "softskf: injected crash\n");
        abort();
    case FAULT_HANG:
        fprintf(stderr, "softskf: injected hang\n");
        for (;;) sskf_sleep_ms(1000);
    case FAULT_CHATTER: {
        const char *text = getenv("SOFTSKF_CHATTER");
        fprintf(stdout, "softskf-debug: %s\n", text ? text : "");
        fflush(stdout);
        fprintf(stderr, "softskf-debug: %s\n", text ? text : "");
        fflush(stderr);
        return SAR_OK;
    }
    default: return SAR_OK;
    }
}

static ULONG enter_obj(const char *fn, HANDLE h, int kind, void **out)
{
    ULONG code = 0;
    int action = fault_tick(fn, &code);
    void *o = h_get(h, kind);
    sdev_t *d;
    ULONG rv;
    if (!o) {
        /* a fault still fires, even with a bad handle */
        if (action != FAULT_NONE && (rv = fault_apply(action, code, NULL, NULL)) != SAR_OK) return rv;
        return SAR_INVALIDHANDLEERR;
    }
    d = h_dev_of(o);
    if (action != FAULT_NONE && (rv = fault_apply(action, code, d, NULL)) != SAR_OK) return rv;
    if (!dev_present(d)) return SAR_DEVICE_REMOVED;
    *out = o;
    return SAR_OK;
}

ULONG enter_dev(const char *fn, HANDLE h, sdev_t **out) { return enter_obj(fn, h, K_DEV, (void **)out); }
ULONG enter_app(const char *fn, HANDLE h, sapp_t **out) { return enter_obj(fn, h, K_APP, (void **)out); }
ULONG enter_con(const char *fn, HANDLE h, scon_t **out) { return enter_obj(fn, h, K_CON, (void **)out); }
ULONG enter_key(const char *fn, HANDLE h, skey_t **out) { return enter_obj(fn, h, K_KEY, (void **)out); }
ULONG enter_hash(const char *fn, HANDLE h, shash_t **out) { return enter_obj(fn, h, K_HASH, (void **)out); }
ULONG enter_mac(const char *fn, HANDLE h, smac_t **out) { return enter_obj(fn, h, K_MAC, (void **)out); }

ULONG enter_plain(const char *fn, const char *devdir)
{
    ULONG code = 0;
    int action = fault_tick(fn, &code);
    if (action == FAULT_NONE) return SAR_OK;
    return fault_apply(action, code, NULL, devdir);
}

ULONG enter_plain_locked(const char *fn)
{
    ULONG rv;
    sskf_lock();
    rv = enter_plain(fn, NULL);
    sskf_unlock();
    return rv;
}

ULONG close_obj(const char *fn, HANDLE h, unsigned kind_mask)
{
    ULONG rv = SAR_OK, code = 0;
    int action = fault_tick(fn, &code), kind;
    void *o = NULL;
    for (kind = K_DEV; kind <= K_MAC && !o; kind++)
        if (kind_mask & KIND_BIT(kind)) o = h_get(h, kind);
    if (action != FAULT_NONE) rv = fault_apply(action, code, o ? h_dev_of(o) : NULL, NULL);
    if (!o) return rv == SAR_OK ? SAR_INVALIDHANDLEERR : rv;
    h_free(o); /* the handle is always released, even on an unplugged key */
    return rv;
}

ULONG need_params(int ok) { return ok ? SAR_OK : SAR_INVALIDPARAMERR; }
ULONG need_login(int logged_in) { return logged_in ? SAR_OK : SAR_USER_NOT_LOGGED_IN; }

/* ------------------------------------------------- constructor/destructor */
#if defined(__GNUC__)
__attribute__((constructor)) static void sskf_init(void)
{
    fault_reload_if_changed();
}

__attribute__((destructor)) static void sskf_fini(void)
{
    sskf_lock();
    h_free_all();
    fault_cleanup();
    sskf_wait_cleanup();
    sskf_unlock();
}
#endif
