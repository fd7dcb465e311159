/* skf_device.c - device management, hot-plug events, device auth, random. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#define LOCK() sskf_lock()
#define UNLOCK() sskf_unlock()

/* ---------------------------------------------------------- enumeration */
struct scan_ctx {
    const char *root;
    int present_only;
    namelist_t *nl;
};

static int scan_cb(const char *name, int is_dir, void *vctx)
{
    struct scan_ctx *c = vctx;
    char *dir;
    if (!is_dir || !valid_dev_name(name)) return 0;
    if (!c->present_only) {
        nl_add(c->nl, name);
        return 0;
    }
    dir = path_join(c->root, name);
    if (dir && dev_present_file(dir)) nl_add(c->nl, name);
    free(dir);
    return 0;
}

static void scan_devices(int present_only, namelist_t *nl)
{
    struct scan_ctx c;
    char *root = store_root();
    memset(nl, 0, sizeof *nl);
    if (!root) return;
    c.root = root;
    c.present_only = present_only;
    c.nl = nl;
    sskf_listdir(root, scan_cb, &c);
    nl_sort(nl);
    free(root);
}

static char *dev_dir_of(const char *name)
{
    char *root = store_root(), *d;
    if (!root) return NULL;
    d = path_join(root, name);
    free(root);
    return d;
}

ULONG DEVAPI SKF_EnumDev(BOOL bPresent, LPSTR szNameList, ULONG *pulSize)
{
    namelist_t nl;
    ULONG rv;
    LOCK();
    if ((rv = enter_plain(__func__, NULL)) == SAR_OK && (rv = need_params(pulSize != NULL)) == SAR_OK) {
        scan_devices(bPresent ? 1 : 0, &nl);
        rv = nl_output(&nl, szNameList, pulSize);
        nl_free(&nl);
    }
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_GetDevState(LPSTR szDevName, ULONG *pulDevState)
{
    char *dir = NULL;
    ULONG rv;
    LOCK();
    if (!szDevName || !pulDevState) {
        rv = enter_plain(__func__, NULL);
        if (rv == SAR_OK) rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    dir = valid_dev_name(szDevName) ? dev_dir_of(szDevName) : NULL;
    if ((rv = enter_plain(__func__, dir)) != SAR_OK) goto out;
    *pulDevState = (dir && dev_present_file(dir)) ? DEV_PRESENT_STATE : DEV_ABSENT_STATE;
out:
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ConnectDev(LPSTR szName, DEVHANDLE *phDev)
{
    char *dir = NULL;
    sdev_t *d;
    ULONG rv;
    LOCK();
    if (szName && valid_dev_name(szName)) dir = dev_dir_of(szName);
    if ((rv = enter_plain(__func__, dir)) != SAR_OK) goto out;
    if (!szName || !phDev) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    *phDev = NULL;
    if (!valid_dev_name(szName)) {
        rv = strlen(szName) > SSKF_MAX_DEV_NAME ? SAR_NAMELENERR : SAR_INVALIDPARAMERR;
        goto out;
    }
    if (!dir) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (!dev_present_file(dir)) {
        rv = SAR_DEVICE_REMOVED;
        goto out;
    }
    if (dev_ensure_state(dir) != 0) {
        rv = SAR_FILEERR;
        goto out;
    }
    d = h_new(K_DEV, sizeof(sdev_t));
    if (!d) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    snprintf(d->name, sizeof d->name, "%s", szName);
    d->dir = dir;
    dir = NULL;
    *phDev = d;
    rv = SAR_OK;
out:
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_DisConnectDev(DEVHANDLE hDev)
{
    ULONG rv;
    LOCK();
    rv = close_obj(__func__, hDev, KIND_BIT(K_DEV));
    UNLOCK();
    return rv;
}

static ULONG load_devconf(sdev_t *d, kv_t *kv)
{
    int rc = kv_load_at(d->dir, "device.conf", kv);
    if (rc == -2) return SAR_MEMORYERR;
    if (rc != 0) {
        if (dev_ensure_state(d->dir) != 0) return SAR_FILEERR;
        rc = kv_load_at(d->dir, "device.conf", kv);
    }
    return rc == 0 ? SAR_OK : SAR_FILEERR;
}

/* device.conf: set key to text, or to n bytes as hex when bytes is given */
static ULONG devconf_set(sdev_t *d, const char *key, const char *text, const BYTE *bytes, size_t n)
{
    kv_t kv;
    ULONG rv = load_devconf(d, &kv);
    if (rv != SAR_OK) return rv;
    if ((bytes ? kv_set_hex(&kv, key, bytes, n) : kv_set(&kv, key, text)) != 0) rv = SAR_MEMORYERR;
    else rv = kv_save_at(d->dir, "device.conf", &kv) == 0 ? SAR_OK : SAR_WRITEFILEERR;
    kv_free(&kv);
    return rv;
}

ULONG DEVAPI SKF_SetLabel(DEVHANDLE hDev, LPSTR szLabel)
{
    sdev_t *d;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) == SAR_OK &&
        (rv = need_params(szLabel && strlen(szLabel) <= 31 && !strpbrk(szLabel, "\r\n"))) == SAR_OK)
        rv = devconf_set(d, "label", szLabel, NULL, 0);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_GetDevInfo(DEVHANDLE hDev, DEVINFO *pDevInfo)
{
    sdev_t *d;
    kv_t kv;
    const char *s;
    unsigned long long used;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK || (rv = need_params(pDevInfo != NULL)) != SAR_OK) goto out;
    if ((rv = load_devconf(d, &kv)) != SAR_OK) goto out;
    memset(pDevInfo, 0, sizeof *pDevInfo);
    pDevInfo->Version.major = 1;
    pDevInfo->Version.minor = 0;
    snprintf(pDevInfo->Manufacturer, sizeof pDevInfo->Manufacturer, "%s", SSKF_MANUFACTURER);
    snprintf(pDevInfo->Issuer, sizeof pDevInfo->Issuer, "%s", SSKF_ISSUER);
    s = kv_get(&kv, "label");
    snprintf(pDevInfo->Label, sizeof pDevInfo->Label, "%s", s ? s : "");
    s = kv_get(&kv, "serial");
    snprintf(pDevInfo->SerialNumber, sizeof pDevInfo->SerialNumber, "%s", s ? s : "");
    pDevInfo->HWVersion.major = 1;
    pDevInfo->FirmwareVersion.major = 1;
    pDevInfo->AlgSymCap = SGD_SMS4_ECB | SGD_SMS4_CBC | SGD_SMS4_MAC;
    pDevInfo->AlgAsymCap = SGD_SM2_1 | SGD_SM2_3;
    pDevInfo->AlgHashCap = SGD_SM3;
    pDevInfo->DevAuthAlgId = SGD_SMS4_ECB;
    used = dev_used_space(d->dir);
    pDevInfo->TotalSpace = SSKF_TOTAL_SPACE;
    pDevInfo->FreeSpace = used >= SSKF_TOTAL_SPACE ? 0 : (ULONG)(SSKF_TOTAL_SPACE - used);
    pDevInfo->MaxECCBufferSize = SSKF_MAX_ECC_BUFFER;
    pDevInfo->MaxBufferSize = SSKF_MAX_BUFFER;
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}

/* LockDev/UnlockDev: advisory exclusive lock between handles of this
 * process on the same device (not across processes). */
static sdev_t *lock_holder(sdev_t *d)
{
    return h_find_locked(d->dir, d);
}

ULONG DEVAPI SKF_LockDev(DEVHANDLE hDev, ULONG ulTimeOut)
{
    sdev_t *d;
    ULONG rv;
    uint64_t start = sskf_now_ms();
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK) goto out;
    for (;;) {
        if (!lock_holder(d)) {
            d->locked = 1;
            rv = SAR_OK;
            break;
        }
        if (ulTimeOut != 0xFFFFFFFFu && sskf_now_ms() - start >= ulTimeOut) {
            rv = SAR_TIMEOUTERR;
            break;
        }
        UNLOCK();
        sskf_sleep_ms(20);
        LOCK();
        d = h_get(hDev, K_DEV);
        if (!d) {
            rv = SAR_INVALIDHANDLEERR;
            break;
        }
        if (!dev_present(d)) {
            rv = SAR_DEVICE_REMOVED;
            break;
        }
    }
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_UnlockDev(DEVHANDLE hDev)
{
    sdev_t *d;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK) goto out;
    d->locked = 0;
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_Transmit(DEVHANDLE hDev, BYTE *pbCommand, ULONG ulCommandLen, BYTE *pbData, ULONG *pulDataLen)
{
    sdev_t *d;
    ULONG rv;
    (void)pbCommand;
    (void)ulCommandLen;
    (void)pbData;
    (void)pulDataLen;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) == SAR_OK) rv = SAR_NOTSUPPORTYETERR;
    UNLOCK();
    return rv;
}

/* -------------------------------------------------------- device auth */
ULONG DEVAPI SKF_GenRandom(DEVHANDLE hDev, BYTE *pbRandom, ULONG ulRandomLen)
{
    sdev_t *d;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK || (rv = need_params(pbRandom && ulRandomLen)) != SAR_OK)
        goto out;
    if (!rand_bytes(pbRandom, ulRandomLen)) {
        rv = SAR_GENRANDERR;
        goto out;
    }
    memset(d->rnd, 0, sizeof d->rnd);
    memcpy(d->rnd, pbRandom, ulRandomLen < 16 ? ulRandomLen : 16);
    d->rnd_valid = 1;
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_DevAuth(DEVHANDLE hDev, BYTE *pbAuthData, ULONG ulLen)
{
    sdev_t *d;
    kv_t kv;
    uint8_t key[16], expect[16];
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK || (rv = need_params(pbAuthData && ulLen == 16)) != SAR_OK)
        goto out;
    if (!d->rnd_valid) {
        rv = SAR_FAIL; /* GenRandom must come first */
        goto out;
    }
    if ((rv = load_devconf(d, &kv)) != SAR_OK) goto out;
    if (kv_get_hex(&kv, "authkey", key, sizeof key) != 16) {
        rv = SAR_FILEERR;
    } else if (!sm4_ecb(key, d->rnd, expect, 16, 1)) {
        rv = SAR_FAIL;
    } else if (CRYPTO_memcmp(expect, pbAuthData, 16) != 0) {
        rv = SAR_FAIL;
        d->authed = 0;
    } else {
        d->authed = 1;
        rv = SAR_OK;
    }
    d->rnd_valid = 0; /* one challenge, one attempt */
    secure_zero(key, sizeof key);
    secure_zero(expect, sizeof expect);
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ChangeDevAuthKey(DEVHANDLE hDev, BYTE *pbKeyValue, ULONG ulKeyLen)
{
    sdev_t *d;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) == SAR_OK && (rv = need_params(pbKeyValue && ulKeyLen == 16)) == SAR_OK &&
        (rv = need_login(d->authed)) == SAR_OK)
        rv = devconf_set(d, "authkey", NULL, pbKeyValue, 16);
    UNLOCK();
    return rv;
}

/* ------------------------------------------------------------ hot-plug */
/* Protected by the wait lock (not the global lock). */
static namelist_t g_known;
static int g_known_init;
static unsigned long g_cancel_gen;
static int g_cancel_pending;
static int g_waiters;

static int nl_has(const namelist_t *nl, const char *s)
{
    int i;
    for (i = 0; i < nl->n; i++)
        if (!strcmp(nl->names[i], s)) return 1;
    return 0;
}

static void nl_remove(namelist_t *nl, const char *s)
{
    int i;
    for (i = 0; i < nl->n; i++) {
        if (!strcmp(nl->names[i], s)) {
            free(nl->names[i]);
            nl->names[i] = nl->names[nl->n - 1];
            nl->n--;
            return;
        }
    }
}

void sskf_wait_cleanup(void)
{
    nl_free(&g_known);
    g_known_init = 0;
}

/* Blocks until a device's present file appears (event 1) or disappears
 * (event 2). The first call snapshots the present set; later calls report
 * every change relative to what was reported before, one event per call.
 * Cancelled by SKF_CancelWaitForDevEvent: returns SAR_OK, *pulEvent = 0,
 * *pulDevNameLen = 0 (and szDevName = "" if given). */
ULONG DEVAPI SKF_WaitForDevEvent(LPSTR szDevName, ULONG *pulDevNameLen, ULONG *pulEvent)
{
    ULONG rv = enter_plain_locked(__func__);
    unsigned long mygen;
    if (rv != SAR_OK) return rv;
    if (!pulDevNameLen || !pulEvent) return SAR_INVALIDPARAMERR;

    sskf_wait_lock();
    if (g_cancel_pending) {
        g_cancel_pending = 0;
        goto cancelled;
    }
    mygen = g_cancel_gen;
    g_waiters++;
    if (!g_known_init) {
        scan_devices(1, &g_known);
        g_known_init = 1;
    }
    for (;;) {
        namelist_t cur;
        const char *name = NULL;
        ULONG ev = 0;
        int i;
        scan_devices(1, &cur);
        for (i = 0; i < cur.n && !name; i++)
            if (!nl_has(&g_known, cur.names[i])) {
                name = cur.names[i];
                ev = DEV_EVENT_INSERTED;
            }
        for (i = 0; i < g_known.n && !name; i++)
            if (!nl_has(&cur, g_known.names[i])) {
                name = g_known.names[i];
                ev = DEV_EVENT_REMOVED;
            }
        if (name) {
            size_t need = strlen(name) + 1;
            if (!szDevName || *pulDevNameLen < need) {
                /* event stays pending: the next call reports it */
                *pulDevNameLen = (ULONG)need;
                rv = SAR_BUFFER_TOO_SMALL;
            } else {
                memcpy(szDevName, name, need);
                *pulDevNameLen = (ULONG)need;
                *pulEvent = ev;
                if (ev == DEV_EVENT_INSERTED) nl_add(&g_known, name);
                else nl_remove(&g_known, szDevName);
                rv = SAR_OK;
            }
            nl_free(&cur);
            g_waiters--;
            sskf_wait_unlock();
            return rv;
        }
        nl_free(&cur);
        if (g_cancel_gen != mygen) break;
        sskf_wait_timed(100);
        if (g_cancel_gen != mygen) break;
    }
    g_waiters--;
cancelled:
    sskf_wait_unlock();
    *pulEvent = DEV_EVENT_NONE;
    *pulDevNameLen = 0;
    if (szDevName) szDevName[0] = 0;
    return SAR_OK;
}

/* Wakes every SKF_WaitForDevEvent in progress (they return SAR_OK with
 * event 0). If no call is waiting, the cancel is remembered and the next
 * SKF_WaitForDevEvent returns at once the same way. */
ULONG DEVAPI SKF_CancelWaitForDevEvent(void)
{
    ULONG rv = enter_plain_locked(__func__);
    if (rv != SAR_OK) return rv;
    sskf_wait_lock();
    g_cancel_gen++;
    if (g_waiters == 0) g_cancel_pending = 1;
    sskf_wait_broadcast();
    sskf_wait_unlock();
    return SAR_OK;
}
