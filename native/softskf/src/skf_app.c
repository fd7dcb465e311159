/* skf_app.c - PINs, applications, files, containers, certificates. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#define LOCK() sskf_lock()
#define UNLOCK() sskf_unlock()

#define ENC_MAX 512 /* encoded name buffer (64 bytes * 3 + NUL fits) */

/* ------------------------------------------------------------- helpers */
static int pin_len_ok(const char *pin)
{
    size_t n = strlen(pin);
    return n >= MIN_PIN_LEN && n <= MAX_PIN_LEN;
}

static char *app_dir(sdev_t *d, const char *name)
{
    char enc[ENC_MAX];
    if (enc_name(name, enc, sizeof enc) != 0) return NULL;
    return path_join3(d->dir, "apps", enc);
}

static ULONG app_conf_load(const char *dir, kv_t *kv)
{
    char *p = path_join(dir, "app.conf");
    int rc = p ? kv_load(p, kv) : -1;
    free(p);
    return rc == 0 ? SAR_OK : SAR_APPLICATION_NOT_EXISTS;
}

static ULONG app_conf_save(const char *dir, const kv_t *kv)
{
    char *p = path_join(dir, "app.conf");
    int rc = p ? kv_save(p, kv) : -1;
    free(p);
    return rc == 0 ? SAR_OK : SAR_WRITEFILEERR;
}

static int app_exists(const char *dir)
{
    char *p = path_join(dir, "app.conf");
    int r = p ? sskf_file_exists(p) : 0;
    free(p);
    return r;
}

int app_user_logged(sapp_t *a) { return a->user_in; }

static int rights_ok(sapp_t *a, uint32_t r)
{
    if (r == SECURE_ANYONE_ACCOUNT) return 1;
    if ((r & SECURE_USER_ACCOUNT) && a->user_in) return 1;
    if ((r & SECURE_ADM_ACCOUNT) && a->admin_in) return 1;
    return 0;
}

static int set_pin(kv_t *kv, const char *prefix, const char *pin)
{
    uint8_t salt[16], h[32];
    char k[32];
    int rc = -1;
    if (!rand_bytes(salt, sizeof salt) || !pin_hash(pin, salt, h)) goto out;
    snprintf(k, sizeof k, "%s_salt", prefix);
    if (kv_set_hex(kv, k, salt, 16)) goto out;
    snprintf(k, sizeof k, "%s_hash", prefix);
    if (kv_set_hex(kv, k, h, 32)) goto out;
    rc = 0;
out:
    secure_zero(h, sizeof h);
    return rc;
}

static int check_pin(const kv_t *kv, const char *prefix, const char *pin)
{
    uint8_t salt[16], h[32], want[32];
    char k[32];
    int ok = 0;
    snprintf(k, sizeof k, "%s_salt", prefix);
    if (kv_get_hex(kv, k, salt, 16) != 16) return 0;
    snprintf(k, sizeof k, "%s_hash", prefix);
    if (kv_get_hex(kv, k, want, 32) != 32) return 0;
    if (pin_hash(pin, salt, h)) ok = CRYPTO_memcmp(h, want, 32) == 0;
    secure_zero(h, sizeof h);
    return ok;
}

/* Verify a PIN against the persisted counter. Returns SAR_OK, SAR_PIN_LOCKED,
 * SAR_PIN_INCORRECT (counter decremented and saved) or an error; *retry gets
 * the remaining count. Does not save on success unless the counter changed. */
static ULONG verify_pin_kv(sapp_t *a, kv_t *kv, const char *prefix, const char *pin, ULONG *retry)
{
    char kmax[32], krem[32];
    uint32_t max, rem;
    snprintf(kmax, sizeof kmax, "%s_max", prefix);
    snprintf(krem, sizeof krem, "%s_remain", prefix);
    max = kv_get_u32(kv, kmax, 10);
    rem = kv_get_u32(kv, krem, 0);
    if (retry) *retry = rem;
    if (rem == 0) return SAR_PIN_LOCKED;
    if (!pin_len_ok(pin)) return SAR_PIN_LEN_RANGE;
    if (check_pin(kv, prefix, pin)) {
        if (rem != max) {
            if (kv_set_u32(kv, krem, max)) return SAR_MEMORYERR;
            if (app_conf_save(a->dir, kv) != SAR_OK) return SAR_WRITEFILEERR;
        }
        if (retry) *retry = max;
        return SAR_OK;
    }
    rem--;
    if (kv_set_u32(kv, krem, rem)) return SAR_MEMORYERR;
    if (app_conf_save(a->dir, kv) != SAR_OK) return SAR_WRITEFILEERR;
    if (retry) *retry = rem;
    return rem == 0 ? SAR_PIN_LOCKED : SAR_PIN_INCORRECT;
}

static const char *pin_prefix(ULONG type)
{
    return type == ADMIN_TYPE ? "admin" : type == USER_TYPE ? "user" : NULL;
}

/* ------------------------------------------------------ access control */
ULONG DEVAPI SKF_VerifyPIN(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szPIN, ULONG *pulRetryCount)
{
    sapp_t *a;
    kv_t kv;
    const char *pre;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!(pre = pin_prefix(ulPINType))) {
        rv = SAR_USER_TYPE_INVALID;
        goto out;
    }
    if (!szPIN) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if ((rv = app_conf_load(a->dir, &kv)) != SAR_OK) goto out;
    rv = verify_pin_kv(a, &kv, pre, szPIN, pulRetryCount);
    if (ulPINType == USER_TYPE) a->user_in = rv == SAR_OK;
    else a->admin_in = rv == SAR_OK;
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ChangePIN(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szOldPin, LPSTR szNewPin,
                           ULONG *pulRetryCount)
{
    sapp_t *a;
    kv_t kv;
    const char *pre;
    char k[32];
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!(pre = pin_prefix(ulPINType))) {
        rv = SAR_USER_TYPE_INVALID;
        goto out;
    }
    if (!szOldPin || !szNewPin) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if (!pin_len_ok(szNewPin)) {
        rv = SAR_PIN_LEN_RANGE;
        goto out;
    }
    if ((rv = app_conf_load(a->dir, &kv)) != SAR_OK) goto out;
    rv = verify_pin_kv(a, &kv, pre, szOldPin, pulRetryCount);
    if (rv == SAR_OK) {
        snprintf(k, sizeof k, "%s_default", pre);
        if (set_pin(&kv, pre, szNewPin) || kv_set_u32(&kv, k, 0)) rv = SAR_MEMORYERR;
        else rv = app_conf_save(a->dir, &kv);
    } else if (ulPINType == USER_TYPE) {
        a->user_in = 0;
    } else {
        a->admin_in = 0;
    }
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_GetPINInfo(HAPPLICATION hApplication, ULONG ulPINType, ULONG *pulMaxRetryCount,
                            ULONG *pulRemainRetryCount, BOOL *pbDefaultPin)
{
    sapp_t *a;
    kv_t kv;
    const char *pre;
    char k[32];
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!(pre = pin_prefix(ulPINType))) {
        rv = SAR_USER_TYPE_INVALID;
        goto out;
    }
    if (!pulMaxRetryCount || !pulRemainRetryCount || !pbDefaultPin) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if ((rv = app_conf_load(a->dir, &kv)) != SAR_OK) goto out;
    snprintf(k, sizeof k, "%s_max", pre);
    *pulMaxRetryCount = kv_get_u32(&kv, k, 10);
    snprintf(k, sizeof k, "%s_remain", pre);
    *pulRemainRetryCount = kv_get_u32(&kv, k, 0);
    snprintf(k, sizeof k, "%s_default", pre);
    *pbDefaultPin = kv_get_u32(&kv, k, 0) ? 1 : 0;
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_UnblockPIN(HAPPLICATION hApplication, LPSTR szAdminPIN, LPSTR szNewUserPIN, ULONG *pulRetryCount)
{
    sapp_t *a;
    kv_t kv;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!szAdminPIN || !szNewUserPIN) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if (!pin_len_ok(szNewUserPIN)) {
        rv = SAR_PIN_LEN_RANGE;
        goto out;
    }
    if ((rv = app_conf_load(a->dir, &kv)) != SAR_OK) goto out;
    rv = verify_pin_kv(a, &kv, "admin", szAdminPIN, pulRetryCount);
    if (rv == SAR_OK) {
        if (set_pin(&kv, "user", szNewUserPIN) || kv_set_u32(&kv, "user_remain", kv_get_u32(&kv, "user_max", 10)) ||
            kv_set_u32(&kv, "user_default", 0))
            rv = SAR_MEMORYERR;
        else rv = app_conf_save(a->dir, &kv);
    } else {
        a->admin_in = 0;
    }
    a->user_in = 0;
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ClearSecureState(HAPPLICATION hApplication)
{
    sapp_t *a;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) == SAR_OK) {
        a->user_in = 0;
        a->admin_in = 0;
    }
    UNLOCK();
    return rv;
}

/* --------------------------------------------------------- applications */
struct enum_ctx {
    const char *dir;
    namelist_t *nl;
    const char *suffix;   /* files: ".meta" */
    const char *marker;   /* apps: "app.conf" */
};

static int enum_cb(const char *name, int is_dir, void *vctx)
{
    struct enum_ctx *c = vctx;
    char dec[ENC_MAX], enc[ENC_MAX];
    if (name[0] == '.') return 0;
    if (c->suffix) {
        size_t n = strlen(name), sl = strlen(c->suffix);
        if (is_dir || n <= sl || strcmp(name + n - sl, c->suffix) || n - sl >= sizeof enc) return 0;
        memcpy(enc, name, n - sl);
        enc[n - sl] = 0;
    } else {
        if (!is_dir || strlen(name) >= sizeof enc) return 0;
        strcpy(enc, name);
    }
    if (c->marker) {
        char *p = path_join3(c->dir, name, c->marker);
        int ok = p && sskf_file_exists(p);
        free(p);
        if (!ok) return 0;
    }
    if (dec_name(enc, dec, sizeof dec) == 0) nl_add(c->nl, dec);
    return 0;
}

static void list_names(const char *dir, const char *suffix, const char *marker, namelist_t *nl)
{
    struct enum_ctx c;
    memset(nl, 0, sizeof *nl);
    c.dir = dir;
    c.nl = nl;
    c.suffix = suffix;
    c.marker = marker;
    sskf_listdir(dir, enum_cb, &c);
    nl_sort(nl);
}

static void list_apps(sdev_t *d, namelist_t *nl)
{
    char *p = path_join(d->dir, "apps");
    memset(nl, 0, sizeof *nl);
    if (p) list_names(p, NULL, "app.conf", nl);
    free(p);
}

static ULONG check_obj_name(const char *name, size_t maxlen)
{
    if (!name) return SAR_INVALIDPARAMERR;
    if (!*name) return SAR_INVALIDPARAMERR;
    if (strlen(name) > maxlen) return SAR_NAMELENERR;
    return SAR_OK;
}

/* remove a directory crash-safely: rename to a hidden name, then delete */
static int remove_dir(const char *dir)
{
    size_t n = strlen(dir);
    char *tmp = malloc(n + 16), *slash;
    int rc;
    if (!tmp) return -1;
    memcpy(tmp, dir, n + 1);
    slash = strrchr(tmp, SSKF_PATHSEP);
    if (!slash) {
        free(tmp);
        return sskf_rmtree(dir);
    }
    snprintf(slash + 1, n + 16 - (size_t)(slash + 1 - tmp), ".deleted-%s", dir + (slash + 1 - tmp));
    sskf_rmtree(tmp);
    rc = sskf_rename_replace(dir, tmp) == 0 ? sskf_rmtree(tmp) : sskf_rmtree(dir);
    free(tmp);
    return rc;
}

ULONG DEVAPI SKF_CreateApplication(DEVHANDLE hDev, LPSTR szAppName, LPSTR szAdminPin, DWORD dwAdminPinRetryCount,
                                   LPSTR szUserPin, DWORD dwUserPinRetryCount, DWORD dwCreateFileRights,
                                   HAPPLICATION *phApplication)
{
    sdev_t *d;
    sapp_t *a;
    namelist_t nl;
    kv_t kv;
    char *dir = NULL, *sub = NULL;
    ULONG rv;
    int napps;
    memset(&kv, 0, sizeof kv);
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK) goto out;
    if (!szAppName || !szAdminPin || !szUserPin || !phApplication) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    *phApplication = NULL;
    if (!*szAppName) {
        rv = SAR_APPLICATION_NAME_INVALID;
        goto out;
    }
    if (strlen(szAppName) > SSKF_MAX_APP_NAME) {
        rv = SAR_NAMELENERR;
        goto out;
    }
    if (!d->authed) {
        rv = SAR_USER_NOT_LOGGED_IN; /* device authentication required */
        goto out;
    }
    if (!pin_len_ok(szAdminPin) || !pin_len_ok(szUserPin)) {
        rv = SAR_PIN_LEN_RANGE;
        goto out;
    }
    if (dwAdminPinRetryCount < 1 || dwAdminPinRetryCount > SSKF_MAX_RETRY || dwUserPinRetryCount < 1 ||
        dwUserPinRetryCount > SSKF_MAX_RETRY) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    dir = app_dir(d, szAppName);
    if (!dir) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (app_exists(dir)) {
        rv = SAR_APPLICATION_EXISTS;
        goto out;
    }
    list_apps(d, &nl);
    napps = nl.n;
    nl_free(&nl);
    if (napps >= SSKF_MAX_APPS) {
        rv = SAR_NO_ROOM;
        goto out;
    }
    sskf_rmtree(dir); /* leftovers of an interrupted creation */
    if (sskf_mkdirs(dir) != 0) {
        rv = SAR_FILEERR;
        goto out;
    }
    sub = path_join(dir, "files");
    if (!sub || sskf_mkdir(sub) != 0) {
        rv = SAR_FILEERR;
        goto out;
    }
    free(sub);
    sub = path_join(dir, "containers");
    if (!sub || sskf_mkdir(sub) != 0) {
        rv = SAR_FILEERR;
        goto out;
    }
    if (kv_set(&kv, "name", szAppName) || set_pin(&kv, "admin", szAdminPin) ||
        kv_set_u32(&kv, "admin_max", dwAdminPinRetryCount) || kv_set_u32(&kv, "admin_remain", dwAdminPinRetryCount) ||
        kv_set_u32(&kv, "admin_default", 1) || set_pin(&kv, "user", szUserPin) ||
        kv_set_u32(&kv, "user_max", dwUserPinRetryCount) || kv_set_u32(&kv, "user_remain", dwUserPinRetryCount) ||
        kv_set_u32(&kv, "user_default", 1) || kv_set_u32(&kv, "file_rights", dwCreateFileRights)) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if ((rv = app_conf_save(dir, &kv)) != SAR_OK) goto out;
    a = h_new(K_APP, sizeof(sapp_t));
    if (!a) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    a->dev = d;
    snprintf(a->name, sizeof a->name, "%s", szAppName);
    a->dir = dir;
    dir = NULL;
    *phApplication = a;
out:
    kv_free(&kv);
    free(dir);
    free(sub);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_EnumApplication(DEVHANDLE hDev, LPSTR szAppName, ULONG *pulSize)
{
    sdev_t *d;
    namelist_t nl;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK) goto out;
    if (!pulSize) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    list_apps(d, &nl);
    rv = nl_output(&nl, szAppName, pulSize);
    nl_free(&nl);
out:
    UNLOCK();
    return rv;
}

static void close_handles_in(int kind, const char *dir)
{
    /* free open handles of a deleted object (apps or containers) */
    for (;;) {
        void *o = h_find_by_dir(kind, dir);
        if (!o) break;
        h_free(o);
    }
}

ULONG DEVAPI SKF_DeleteApplication(DEVHANDLE hDev, LPSTR szAppName)
{
    sdev_t *d;
    char *dir = NULL;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szAppName, SSKF_MAX_APP_NAME)) != SAR_OK) goto out;
    if (!d->authed) {
        rv = SAR_USER_NOT_LOGGED_IN;
        goto out;
    }
    dir = app_dir(d, szAppName);
    if (!dir || !app_exists(dir)) {
        rv = SAR_APPLICATION_NOT_EXISTS;
        goto out;
    }
    close_handles_in(K_APP, dir);
    rv = remove_dir(dir) == 0 ? SAR_OK : SAR_FILEERR;
out:
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_OpenApplication(DEVHANDLE hDev, LPSTR szAppName, HAPPLICATION *phApplication)
{
    sdev_t *d;
    sapp_t *a;
    char *dir = NULL;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK) goto out;
    if (!phApplication) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    *phApplication = NULL;
    if ((rv = check_obj_name(szAppName, SSKF_MAX_APP_NAME)) != SAR_OK) goto out;
    dir = app_dir(d, szAppName);
    if (!dir || !app_exists(dir)) {
        rv = SAR_APPLICATION_NOT_EXISTS;
        goto out;
    }
    a = h_new(K_APP, sizeof(sapp_t));
    if (!a) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    a->dev = d;
    snprintf(a->name, sizeof a->name, "%s", szAppName);
    a->dir = dir;
    dir = NULL;
    *phApplication = a;
out:
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_CloseApplication(HAPPLICATION hApplication)
{
    sapp_t *a;
    ULONG rv = SAR_OK, code = 0;
    int action;
    LOCK();
    action = fault_tick(__func__, &code);
    a = h_get(hApplication, K_APP);
    if (action != FAULT_NONE) rv = fault_apply(action, code, a ? a->dev : NULL, NULL);
    if (!a) {
        if (rv == SAR_OK) rv = SAR_INVALIDHANDLEERR;
    } else {
        h_free(a);
    }
    UNLOCK();
    return rv;
}

/* ---------------------------------------------------------------- files */
static char *file_path(sapp_t *a, const char *name, const char *suffix)
{
    char enc[ENC_MAX], leaf[ENC_MAX + 8];
    if (enc_name(name, enc, sizeof enc) != 0) return NULL;
    snprintf(leaf, sizeof leaf, "%s%s", enc, suffix);
    return path_join3(a->dir, "files", leaf);
}

typedef struct {
    uint32_t size, rd, wr;
} fmeta_t;

static ULONG file_meta(sapp_t *a, const char *name, fmeta_t *m)
{
    char *p = file_path(a, name, ".meta");
    kv_t kv;
    int rc = p ? kv_load(p, &kv) : -1;
    free(p);
    if (rc != 0) return SAR_FILE_NOT_EXIST;
    m->size = kv_get_u32(&kv, "size", 0);
    m->rd = kv_get_u32(&kv, "read", 0);
    m->wr = kv_get_u32(&kv, "write", 0);
    kv_free(&kv);
    return SAR_OK;
}

static void list_files(sapp_t *a, namelist_t *nl)
{
    char *p = path_join(a->dir, "files");
    memset(nl, 0, sizeof *nl);
    if (p) list_names(p, ".meta", NULL, nl);
    free(p);
}

static ULONG room_for(sdev_t *d, unsigned long long extra)
{
    return dev_used_space(d->dir) + extra > SSKF_TOTAL_SPACE ? SAR_NO_ROOM : SAR_OK;
}

ULONG DEVAPI SKF_CreateFile(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulFileSize, ULONG ulReadRights,
                            ULONG ulWriteRights)
{
    sapp_t *a;
    kv_t kv, meta;
    namelist_t nl;
    char *pm = NULL, *pd = NULL;
    uint8_t *zero = NULL;
    ULONG rv;
    int nfiles;
    memset(&meta, 0, sizeof meta);
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szFileName, MAX_FILE_NAME_SIZE)) != SAR_OK) goto out;
    if ((rv = app_conf_load(a->dir, &kv)) != SAR_OK) goto out;
    if (!rights_ok(a, kv_get_u32(&kv, "file_rights", SECURE_ANYONE_ACCOUNT))) rv = SAR_USER_NOT_LOGGED_IN;
    kv_free(&kv);
    if (rv != SAR_OK) goto out;
    pm = file_path(a, szFileName, ".meta");
    pd = file_path(a, szFileName, ".data");
    if (!pm || !pd) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (sskf_file_exists(pm)) {
        rv = SAR_FILE_ALREADY_EXIST;
        goto out;
    }
    list_files(a, &nl);
    nfiles = nl.n;
    nl_free(&nl);
    if (nfiles >= SSKF_MAX_FILES || (rv = room_for(a->dev, ulFileSize)) != SAR_OK) {
        rv = SAR_NO_ROOM;
        goto out;
    }
    zero = calloc(1, ulFileSize ? ulFileSize : 1);
    if (!zero) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (write_atomic(pd, zero, ulFileSize) != 0) {
        rv = SAR_WRITEFILEERR;
        goto out;
    }
    if (kv_set(&meta, "name", szFileName) || kv_set_u32(&meta, "size", ulFileSize) ||
        kv_set_u32(&meta, "read", ulReadRights) || kv_set_u32(&meta, "write", ulWriteRights)) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    rv = kv_save(pm, &meta) == 0 ? SAR_OK : SAR_WRITEFILEERR;
out:
    kv_free(&meta);
    free(zero);
    free(pm);
    free(pd);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_DeleteFile(HAPPLICATION hApplication, LPSTR szFileName)
{
    sapp_t *a;
    fmeta_t m;
    char *pm = NULL, *pd = NULL;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szFileName, MAX_FILE_NAME_SIZE)) != SAR_OK) goto out;
    if ((rv = file_meta(a, szFileName, &m)) != SAR_OK) goto out;
    if (!rights_ok(a, m.wr)) {
        rv = SAR_USER_NOT_LOGGED_IN;
        goto out;
    }
    pm = file_path(a, szFileName, ".meta");
    pd = file_path(a, szFileName, ".data");
    if (!pm || !pd) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (sskf_unlink(pm) != 0) rv = SAR_FILEERR;
    sskf_unlink(pd);
out:
    free(pm);
    free(pd);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_EnumFiles(HAPPLICATION hApplication, LPSTR szFileList, ULONG *pulSize)
{
    sapp_t *a;
    namelist_t nl;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!pulSize) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    list_files(a, &nl);
    rv = nl_output(&nl, szFileList, pulSize);
    nl_free(&nl);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_GetFileInfo(HAPPLICATION hApplication, LPSTR szFileName, FILEATTRIBUTE *pFileInfo)
{
    sapp_t *a;
    fmeta_t m;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szFileName, MAX_FILE_NAME_SIZE)) != SAR_OK) goto out;
    if (!pFileInfo) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if ((rv = file_meta(a, szFileName, &m)) != SAR_OK) goto out;
    memset(pFileInfo, 0, sizeof *pFileInfo);
    memcpy(pFileInfo->FileName, szFileName, strlen(szFileName)); /* <= 32, NUL if room */
    pFileInfo->FileSize = m.size;
    pFileInfo->ReadRights = m.rd;
    pFileInfo->WriteRights = m.wr;
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ReadFile(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulOffset, ULONG ulSize, BYTE *pbOutData,
                          ULONG *pulOutLen)
{
    sapp_t *a;
    fmeta_t m;
    char *pd = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    ULONG rv, n;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szFileName, MAX_FILE_NAME_SIZE)) != SAR_OK) goto out;
    if (!pulOutLen) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if ((rv = file_meta(a, szFileName, &m)) != SAR_OK) goto out;
    if (!rights_ok(a, m.rd)) {
        rv = SAR_USER_NOT_LOGGED_IN;
        goto out;
    }
    if (ulOffset > m.size) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    n = m.size - ulOffset;
    if (ulSize < n) n = ulSize;
    if (!pbOutData) {
        *pulOutLen = n;
        goto out;
    }
    if (*pulOutLen < n) {
        *pulOutLen = n;
        rv = SAR_BUFFER_TOO_SMALL;
        goto out;
    }
    pd = file_path(a, szFileName, ".data");
    if (!pd || read_all(pd, &buf, &len) != 0) {
        rv = SAR_READFILEERR;
        goto out;
    }
    if (len < (size_t)ulOffset + n) {
        rv = SAR_READFILEERR;
        goto out;
    }
    if (n) memcpy(pbOutData, buf + ulOffset, n);
    *pulOutLen = n;
out:
    free(buf);
    free(pd);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_WriteFile(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulOffset, BYTE *pbData, ULONG ulSize)
{
    sapp_t *a;
    fmeta_t m;
    char *pd = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szFileName, MAX_FILE_NAME_SIZE)) != SAR_OK) goto out;
    if (!pbData && ulSize) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if ((rv = file_meta(a, szFileName, &m)) != SAR_OK) goto out;
    if (!rights_ok(a, m.wr)) {
        rv = SAR_USER_NOT_LOGGED_IN;
        goto out;
    }
    if ((uint64_t)ulOffset + ulSize > m.size) {
        rv = SAR_INDATALENERR; /* files have the fixed size given to SKF_CreateFile */
        goto out;
    }
    pd = file_path(a, szFileName, ".data");
    if (!pd || read_all(pd, &buf, &len) != 0) {
        rv = SAR_READFILEERR;
        goto out;
    }
    if (len != m.size) {
        uint8_t *nb = realloc(buf, m.size ? m.size : 1);
        if (!nb) {
            rv = SAR_MEMORYERR;
            goto out;
        }
        buf = nb;
        if (len < m.size) memset(buf + len, 0, m.size - len);
        len = m.size;
    }
    if (ulSize) memcpy(buf + ulOffset, pbData, ulSize);
    rv = write_atomic(pd, buf, len) == 0 ? SAR_OK : SAR_WRITEFILEERR;
out:
    free(buf);
    free(pd);
    UNLOCK();
    return rv;
}

/* ------------------------------------------------------------ containers */
static char *con_dir(sapp_t *a, const char *name)
{
    char enc[ENC_MAX];
    if (enc_name(name, enc, sizeof enc) != 0) return NULL;
    return path_join3(a->dir, "containers", enc);
}

static int con_exists(const char *dir)
{
    char *p = path_join(dir, "container.conf");
    int r = p ? sskf_file_exists(p) : 0;
    free(p);
    return r;
}

static void list_cons(sapp_t *a, namelist_t *nl)
{
    char *p = path_join(a->dir, "containers");
    memset(nl, 0, sizeof *nl);
    if (p) list_names(p, NULL, "container.conf", nl);
    free(p);
}

ULONG con_load(scon_t *c, kv_t *kv)
{
    char *p = path_join(c->dir, "container.conf");
    int rc = p ? kv_load(p, kv) : -1;
    free(p);
    return rc == 0 ? SAR_OK : SAR_FILEERR;
}

ULONG con_save(scon_t *c, const kv_t *kv)
{
    char *p = path_join(c->dir, "container.conf");
    int rc = p ? kv_save(p, kv) : -1;
    free(p);
    return rc == 0 ? SAR_OK : SAR_WRITEFILEERR;
}

static scon_t *new_con(sapp_t *a, const char *name, char *dir)
{
    scon_t *c = h_new(K_CON, sizeof(scon_t));
    if (!c) return NULL;
    c->app = a;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->dir = dir;
    return c;
}

ULONG DEVAPI SKF_CreateContainer(HAPPLICATION hApplication, LPSTR szContainerName, HCONTAINER *phContainer)
{
    sapp_t *a;
    scon_t *c;
    namelist_t nl;
    kv_t kv;
    char *dir = NULL;
    ULONG rv;
    int n;
    memset(&kv, 0, sizeof kv);
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!phContainer) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    *phContainer = NULL;
    if ((rv = check_obj_name(szContainerName, MAX_CONTAINER_NAME_SIZE)) != SAR_OK) goto out;
    if (!a->user_in) {
        rv = SAR_USER_NOT_LOGGED_IN;
        goto out;
    }
    dir = con_dir(a, szContainerName);
    if (!dir) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (con_exists(dir)) {
        rv = SAR_FILE_ALREADY_EXIST;
        goto out;
    }
    list_cons(a, &nl);
    n = nl.n;
    nl_free(&nl);
    if (n >= SSKF_MAX_CONTAINERS) {
        rv = SAR_REACH_MAX_CONTAINER_COUNT;
        goto out;
    }
    sskf_rmtree(dir);
    if (sskf_mkdirs(dir) != 0) {
        rv = SAR_FILEERR;
        goto out;
    }
    if (kv_set(&kv, "name", szContainerName) || kv_set_u32(&kv, "type", CONTAINER_TYPE_EMPTY)) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    c = new_con(a, szContainerName, dir);
    if (!c) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    dir = NULL;
    if ((rv = con_save(c, &kv)) != SAR_OK) {
        h_free(c);
        goto out;
    }
    *phContainer = c;
out:
    kv_free(&kv);
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_OpenContainer(HAPPLICATION hApplication, LPSTR szContainerName, HCONTAINER *phContainer)
{
    sapp_t *a;
    scon_t *c;
    char *dir = NULL;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!phContainer) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    *phContainer = NULL;
    if ((rv = check_obj_name(szContainerName, MAX_CONTAINER_NAME_SIZE)) != SAR_OK) goto out;
    dir = con_dir(a, szContainerName);
    if (!dir || !con_exists(dir)) {
        rv = SAR_FILE_NOT_EXIST;
        goto out;
    }
    c = new_con(a, szContainerName, dir);
    if (!c) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    dir = NULL;
    *phContainer = c;
out:
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_DeleteContainer(HAPPLICATION hApplication, LPSTR szContainerName)
{
    sapp_t *a;
    char *dir = NULL;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szContainerName, MAX_CONTAINER_NAME_SIZE)) != SAR_OK) goto out;
    if (!a->user_in) {
        rv = SAR_USER_NOT_LOGGED_IN;
        goto out;
    }
    dir = con_dir(a, szContainerName);
    if (!dir || !con_exists(dir)) {
        rv = SAR_FILE_NOT_EXIST;
        goto out;
    }
    close_handles_in(K_CON, dir);
    rv = remove_dir(dir) == 0 ? SAR_OK : SAR_FILEERR;
out:
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_CloseContainer(HCONTAINER hContainer)
{
    scon_t *c;
    ULONG rv = SAR_OK, code = 0;
    int action;
    LOCK();
    action = fault_tick(__func__, &code);
    c = h_get(hContainer, K_CON);
    if (action != FAULT_NONE) rv = fault_apply(action, code, c ? c->app->dev : NULL, NULL);
    if (!c) {
        if (rv == SAR_OK) rv = SAR_INVALIDHANDLEERR;
    } else {
        h_free(c);
    }
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_EnumContainer(HAPPLICATION hApplication, LPSTR szContainerName, ULONG *pulSize)
{
    sapp_t *a;
    namelist_t nl;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if (!pulSize) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    list_cons(a, &nl);
    rv = nl_output(&nl, szContainerName, pulSize);
    nl_free(&nl);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_GetContainerType(HCONTAINER hContainer, ULONG *pulContainerType)
{
    scon_t *c;
    kv_t kv;
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK) goto out;
    if (!pulContainerType) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if ((rv = con_load(c, &kv)) != SAR_OK) goto out;
    *pulContainerType = (kv_get(&kv, "sign_pub") || kv_get(&kv, "enc_pub")) ? CONTAINER_TYPE_ECC : CONTAINER_TYPE_EMPTY;
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}

static char *cert_path(scon_t *c, BOOL bSign)
{
    return path_join(c->dir, bSign ? "sign.cer" : "enc.cer");
}

ULONG DEVAPI SKF_ImportCertificate(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbCert, ULONG ulCertLen)
{
    scon_t *c;
    char *p = NULL;
    long long old;
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK) goto out;
    if (!pbCert || ulCertLen == 0) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if (ulCertLen > 16384) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if (!c->app->user_in) {
        rv = SAR_USER_NOT_LOGGED_IN;
        goto out;
    }
    p = cert_path(c, bSignFlag);
    if (!p) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    old = sskf_file_size(p);
    if (room_for(c->app->dev, old > 0 && (unsigned long long)old >= ulCertLen ? 0 : ulCertLen) != SAR_OK) {
        rv = SAR_NO_ROOM;
        goto out;
    }
    rv = write_atomic(p, pbCert, ulCertLen) == 0 ? SAR_OK : SAR_WRITEFILEERR;
out:
    free(p);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ExportCertificate(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbCert, ULONG *pulCertLen)
{
    scon_t *c;
    char *p = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK) goto out;
    if (!pulCertLen) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    p = cert_path(c, bSignFlag);
    if (!p || read_all(p, &buf, &len) != 0 || len == 0) {
        rv = SAR_CERTNOTFOUNTERR;
        goto out;
    }
    if (!pbCert) {
        *pulCertLen = (ULONG)len;
        goto out;
    }
    if (*pulCertLen < len) {
        *pulCertLen = (ULONG)len;
        rv = SAR_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(pbCert, buf, len);
    *pulCertLen = (ULONG)len;
out:
    free(buf);
    free(p);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ExportPublicKey(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbBlob, ULONG *pulBlobLen)
{
    scon_t *c;
    kv_t kv;
    uint8_t xy[64];
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK) goto out;
    if (!pulBlobLen) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    if ((rv = con_load(c, &kv)) != SAR_OK) goto out;
    if (kv_get_hex(&kv, bSignFlag ? "sign_pub" : "enc_pub", xy, sizeof xy) != 64) {
        rv = SAR_KEYNOTFOUNTERR;
    } else if (!pbBlob) {
        *pulBlobLen = sizeof(ECCPUBLICKEYBLOB);
    } else if (*pulBlobLen < sizeof(ECCPUBLICKEYBLOB)) {
        *pulBlobLen = sizeof(ECCPUBLICKEYBLOB);
        rv = SAR_BUFFER_TOO_SMALL;
    } else {
        ECCPUBLICKEYBLOB b;
        pubblob_set(&b, xy, xy + 32);
        memcpy(pbBlob, &b, sizeof b);
        *pulBlobLen = sizeof(ECCPUBLICKEYBLOB);
    }
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}
