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

/* <parent>/<sub>/<enc(name)><suffix> (malloc'd, NULL if the name is too long) */
static char *obj_path(const char *parent, const char *sub, const char *name, const char *suffix)
{
    char enc[ENC_MAX], leaf[ENC_MAX + 8];
    if (enc_name(name, enc, sizeof enc) != 0) return NULL;
    snprintf(leaf, sizeof leaf, "%s%s", enc, suffix);
    return path_join3(parent, sub, leaf);
}


static ULONG app_conf_load(const char *dir, kv_t *kv)
{
    return kv_load_at(dir, "app.conf", kv) == 0 ? SAR_OK : SAR_APPLICATION_NOT_EXISTS;
}

static ULONG app_conf_save(const char *dir, const kv_t *kv)
{
    return kv_save_at(dir, "app.conf", kv) == 0 ? SAR_OK : SAR_WRITEFILEERR;
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

/* start of VerifyPIN/ChangePIN/GetPINInfo: handle, PIN type, other parameters */
static ULONG pin_call_start(const char *fn, HAPPLICATION h, ULONG type, int params_ok, sapp_t **a,
                            const char **pre)
{
    ULONG rv = enter_app(fn, h, a);
    if (rv != SAR_OK) return rv;
    if (!(*pre = pin_prefix(type))) return SAR_USER_TYPE_INVALID;
    return need_params(params_ok);
}

static void set_login(sapp_t *a, ULONG type, int logged_in)
{
    if (type == USER_TYPE) a->user_in = logged_in;
    else a->admin_in = logged_in;
}

/* ------------------------------------------------------ access control */
ULONG DEVAPI SKF_VerifyPIN(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szPIN, ULONG *pulRetryCount)
{
    sapp_t *a;
    kv_t kv;
    const char *pre;
    ULONG rv;
    LOCK();
    if ((rv = pin_call_start(__func__, hApplication, ulPINType, szPIN != NULL, &a, &pre)) != SAR_OK) goto out;
    if ((rv = app_conf_load(a->dir, &kv)) != SAR_OK) goto out;
    rv = verify_pin_kv(a, &kv, pre, szPIN, pulRetryCount);
    set_login(a, ulPINType, rv == SAR_OK);
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
    if ((rv = pin_call_start(__func__, hApplication, ulPINType, szOldPin && szNewPin, &a, &pre)) != SAR_OK)
        goto out;
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
    } else {
        set_login(a, ulPINType, 0);
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
    if ((rv = pin_call_start(__func__, hApplication, ulPINType,
                             pulMaxRetryCount && pulRemainRetryCount && pbDefaultPin, &a, &pre)) != SAR_OK)
        goto out;
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
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK ||
        (rv = need_params(szAdminPIN && szNewUserPIN)) != SAR_OK)
        goto out;
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
        char *p = path_join(c->dir, name);
        int ok = p && file_exists_at(p, c->marker);
        free(p);
        if (!ok) return 0;
    }
    if (dec_name(enc, dec, sizeof dec) == 0) nl_add(c->nl, dec);
    return 0;
}

/* what lives under a device/application directory */
struct objkind {
    const char *sub;     /* subdirectory */
    const char *suffix;  /* files: ".meta" */
    const char *marker;  /* directories holding this file */
    size_t maxlen;       /* name length (applications, containers) */
    ULONG missing;       /* error when it does not exist */
};
static const struct objkind APPS = {"apps", NULL, "app.conf", SSKF_MAX_APP_NAME, SAR_APPLICATION_NOT_EXISTS};
static const struct objkind CONS = {"containers", NULL, "container.conf", MAX_CONTAINER_NAME_SIZE, SAR_FILE_NOT_EXIST};
static const struct objkind FILES = {"files", ".meta", NULL, MAX_FILE_NAME_SIZE, SAR_FILE_NOT_EXIST};

/* directory of an application (parent: device dir) or container (parent: application dir) */
static char *obj_dir(const char *parent, const struct objkind *kind, const char *name)
{
    return obj_path(parent, kind->sub, name, "");
}

static int obj_exists(const char *dir, const struct objkind *kind) { return file_exists_at(dir, kind->marker); }

/* sorted names of the objects of one kind under <dir>/<kind->sub> */
static void list_objs(const char *dir, const struct objkind *kind, namelist_t *nl)
{
    struct enum_ctx c;
    char *p = path_join(dir, kind->sub);
    memset(nl, 0, sizeof *nl);
    if (p) {
        c.dir = p;
        c.nl = nl;
        c.suffix = kind->suffix;
        c.marker = kind->marker;
        sskf_listdir(p, enum_cb, &c);
        nl_sort(nl);
    }
    free(p);
}

static int count_objs(const char *dir, const struct objkind *kind)
{
    namelist_t nl;
    int n;
    list_objs(dir, kind, &nl);
    n = nl.n;
    nl_free(&nl);
    return n;
}

/* EnumApplication/EnumContainer/EnumFiles: the multi-string of one kind */
static ULONG enum_objs(const char *dir, const struct objkind *kind, LPSTR out, ULONG *size)
{
    namelist_t nl;
    ULONG rv;
    if (!size) return SAR_INVALIDPARAMERR;
    list_objs(dir, kind, &nl);
    rv = nl_output(&nl, out, size);
    nl_free(&nl);
    return rv;
}

static ULONG check_obj_name(const char *name, size_t maxlen)
{
    if (!name) return SAR_INVALIDPARAMERR;
    if (!*name) return SAR_INVALIDPARAMERR;
    if (strlen(name) > maxlen) return SAR_NAMELENERR;
    return SAR_OK;
}

static sapp_t *new_app(sdev_t *d, const char *name, char *dir)
{
    sapp_t *a = h_new(K_APP, sizeof(sapp_t));
    if (!a) return NULL;
    a->dev = d;
    snprintf(a->name, sizeof a->name, "%s", name);
    a->dir = dir;
    return a;
}

/* Open/Delete of an application or container: name check, then the right to
 * act (device auth, user PIN; 1 for Open), then the directory of the
 * existing object in *dir (freed by the caller). */
static ULONG find_obj(const char *parent, const struct objkind *kind, const char *name, int allowed, char **dir)
{
    ULONG rv;
    if ((rv = check_obj_name(name, kind->maxlen)) != SAR_OK || (rv = need_login(allowed)) != SAR_OK) return rv;
    *dir = obj_dir(parent, kind, name);
    return *dir && obj_exists(*dir, kind) ? SAR_OK : kind->missing;
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

/* OpenApplication (parent: sdev_t) / OpenContainer (parent: sapp_t): *ph is
 * NULL or the new handle */
static ULONG open_obj(void *parent, const char *pdir, const struct objkind *kind, const char *name, HANDLE *ph)
{
    char *dir = NULL;
    void *o;
    ULONG rv;
    *ph = NULL;
    if ((rv = find_obj(pdir, kind, name, 1, &dir)) == SAR_OK) {
        o = kind == &APPS ? (void *)new_app(parent, name, dir) : (void *)new_con(parent, name, dir);
        if (o) {
            *ph = o;
            dir = NULL;
        } else {
            rv = SAR_MEMORYERR;
        }
    }
    free(dir);
    return rv;
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
    kv_t kv;
    char *dir = NULL, *sub = NULL;
    ULONG rv;
    memset(&kv, 0, sizeof kv);
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK ||
        (rv = need_params(szAppName && szAdminPin && szUserPin && phApplication)) != SAR_OK)
        goto out;
    *phApplication = NULL;
    if (!*szAppName) {
        rv = SAR_APPLICATION_NAME_INVALID;
        goto out;
    }
    if (strlen(szAppName) > SSKF_MAX_APP_NAME) {
        rv = SAR_NAMELENERR;
        goto out;
    }
    if ((rv = need_login(d->authed)) != SAR_OK) goto out; /* device authentication required */
    if (!pin_len_ok(szAdminPin) || !pin_len_ok(szUserPin)) {
        rv = SAR_PIN_LEN_RANGE;
        goto out;
    }
    if (dwAdminPinRetryCount < 1 || dwAdminPinRetryCount > SSKF_MAX_RETRY || dwUserPinRetryCount < 1 ||
        dwUserPinRetryCount > SSKF_MAX_RETRY) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    dir = obj_dir(d->dir, &APPS, szAppName);
    if (!dir) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (obj_exists(dir, &APPS)) {
        rv = SAR_APPLICATION_EXISTS;
        goto out;
    }
    if (count_objs(d->dir, &APPS) >= SSKF_MAX_APPS) {
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
    a = new_app(d, szAppName, dir);
    if (!a) {
        rv = SAR_MEMORYERR;
        goto out;
    }
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
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) == SAR_OK) rv = enum_objs(d->dir, &APPS, szAppName, pulSize);
    UNLOCK();
    return rv;
}

/* delete an application or container: close its open handles, remove its directory */
static ULONG delete_obj(int kind, const char *dir)
{
    for (;;) {
        void *o = h_find_by_dir(kind, dir);
        if (!o) break;
        h_free(o);
    }
    return remove_dir(dir) == 0 ? SAR_OK : SAR_FILEERR;
}

ULONG DEVAPI SKF_DeleteApplication(DEVHANDLE hDev, LPSTR szAppName)
{
    sdev_t *d;
    char *dir = NULL;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) == SAR_OK &&
        (rv = find_obj(d->dir, &APPS, szAppName, d->authed, &dir)) == SAR_OK)
        rv = delete_obj(K_APP, dir);
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_OpenApplication(DEVHANDLE hDev, LPSTR szAppName, HAPPLICATION *phApplication)
{
    sdev_t *d;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) == SAR_OK && (rv = need_params(phApplication != NULL)) == SAR_OK)
        rv = open_obj(d, d->dir, &APPS, szAppName, phApplication);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_CloseApplication(HAPPLICATION hApplication)
{
    ULONG rv;
    LOCK();
    rv = close_obj(__func__, hApplication, KIND_BIT(K_APP));
    UNLOCK();
    return rv;
}

/* ---------------------------------------------------------------- files */
static char *file_path(sapp_t *a, const char *name, const char *suffix)
{
    return obj_path(a->dir, "files", name, suffix);
}

/* both paths of a file (freed by the caller also on error) */
static ULONG file_paths(sapp_t *a, const char *name, char **meta, char **data)
{
    *meta = file_path(a, name, ".meta");
    *data = file_path(a, name, ".data");
    return *meta && *data ? SAR_OK : SAR_MEMORYERR;
}

/* the content of a file and the path it was read from */
static ULONG file_data(sapp_t *a, const char *name, char **path, uint8_t **buf, size_t *len)
{
    *path = file_path(a, name, ".data");
    return *path && read_all(*path, buf, len) == 0 ? SAR_OK : SAR_READFILEERR;
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

enum { ACC_NONE, ACC_READ, ACC_WRITE };

/* start of a call on an existing file: handle, file name, other parameters,
 * metadata, then the read or write right if one is needed */
static ULONG file_call_start(const char *fn, HAPPLICATION h, const char *name, int params_ok, int access,
                             sapp_t **a, fmeta_t *m)
{
    ULONG rv;
    if ((rv = enter_app(fn, h, a)) != SAR_OK) return rv;
    if ((rv = check_obj_name(name, MAX_FILE_NAME_SIZE)) != SAR_OK) return rv;
    if ((rv = need_params(params_ok)) != SAR_OK) return rv;
    if ((rv = file_meta(*a, name, m)) != SAR_OK) return rv;
    if (access != ACC_NONE && !rights_ok(*a, access == ACC_READ ? m->rd : m->wr)) return SAR_USER_NOT_LOGGED_IN;
    return SAR_OK;
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
    char *pm = NULL, *pd = NULL;
    uint8_t *zero = NULL;
    ULONG rv;
    memset(&meta, 0, sizeof meta);
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK) goto out;
    if ((rv = check_obj_name(szFileName, MAX_FILE_NAME_SIZE)) != SAR_OK) goto out;
    if ((rv = app_conf_load(a->dir, &kv)) != SAR_OK) goto out;
    if (!rights_ok(a, kv_get_u32(&kv, "file_rights", SECURE_ANYONE_ACCOUNT))) rv = SAR_USER_NOT_LOGGED_IN;
    kv_free(&kv);
    if (rv != SAR_OK) goto out;
    if ((rv = file_paths(a, szFileName, &pm, &pd)) != SAR_OK) goto out;
    if (sskf_file_exists(pm)) {
        rv = SAR_FILE_ALREADY_EXIST;
        goto out;
    }
    if (count_objs(a->dir, &FILES) >= SSKF_MAX_FILES || (rv = room_for(a->dev, ulFileSize)) != SAR_OK) {
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
    if ((rv = file_call_start(__func__, hApplication, szFileName, 1, ACC_WRITE, &a, &m)) != SAR_OK) goto out;
    if ((rv = file_paths(a, szFileName, &pm, &pd)) != SAR_OK) goto out;
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
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) == SAR_OK) rv = enum_objs(a->dir, &FILES, szFileList, pulSize);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_GetFileInfo(HAPPLICATION hApplication, LPSTR szFileName, FILEATTRIBUTE *pFileInfo)
{
    sapp_t *a;
    fmeta_t m;
    ULONG rv;
    LOCK();
    if ((rv = file_call_start(__func__, hApplication, szFileName, pFileInfo != NULL, ACC_NONE, &a, &m)) != SAR_OK)
        goto out;
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
    if ((rv = file_call_start(__func__, hApplication, szFileName, pulOutLen != NULL, ACC_READ, &a, &m)) != SAR_OK)
        goto out;
    if (ulOffset > m.size) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    n = m.size - ulOffset;
    if (ulSize < n) n = ulSize;
    if (!out_room(pbOutData, pulOutLen, n, &rv)) goto out;
    if ((rv = file_data(a, szFileName, &pd, &buf, &len)) != SAR_OK) goto out;
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
    if ((rv = file_call_start(__func__, hApplication, szFileName, pbData || !ulSize, ACC_WRITE, &a, &m)) != SAR_OK)
        goto out;
    if ((uint64_t)ulOffset + ulSize > m.size) {
        rv = SAR_INDATALENERR; /* files have the fixed size given to SKF_CreateFile */
        goto out;
    }
    if ((rv = file_data(a, szFileName, &pd, &buf, &len)) != SAR_OK) goto out;
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


ULONG con_load(scon_t *c, kv_t *kv)
{
    return kv_load_at(c->dir, "container.conf", kv) == 0 ? SAR_OK : SAR_FILEERR;
}

ULONG con_save(scon_t *c, const kv_t *kv)
{
    return kv_save_at(c->dir, "container.conf", kv) == 0 ? SAR_OK : SAR_WRITEFILEERR;
}

ULONG DEVAPI SKF_CreateContainer(HAPPLICATION hApplication, LPSTR szContainerName, HCONTAINER *phContainer)
{
    sapp_t *a;
    scon_t *c;
    kv_t kv;
    char *dir = NULL;
    ULONG rv;
    memset(&kv, 0, sizeof kv);
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) != SAR_OK || (rv = need_params(phContainer != NULL)) != SAR_OK)
        goto out;
    *phContainer = NULL;
    if ((rv = check_obj_name(szContainerName, MAX_CONTAINER_NAME_SIZE)) != SAR_OK) goto out;
    if ((rv = need_login(a->user_in)) != SAR_OK) goto out;
    dir = obj_dir(a->dir, &CONS, szContainerName);
    if (!dir) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (obj_exists(dir, &CONS)) {
        rv = SAR_FILE_ALREADY_EXIST;
        goto out;
    }
    if (count_objs(a->dir, &CONS) >= SSKF_MAX_CONTAINERS) {
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
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) == SAR_OK && (rv = need_params(phContainer != NULL)) == SAR_OK)
        rv = open_obj(a, a->dir, &CONS, szContainerName, phContainer);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_DeleteContainer(HAPPLICATION hApplication, LPSTR szContainerName)
{
    sapp_t *a;
    char *dir = NULL;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) == SAR_OK &&
        (rv = find_obj(a->dir, &CONS, szContainerName, a->user_in, &dir)) == SAR_OK)
        rv = delete_obj(K_CON, dir);
    free(dir);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_CloseContainer(HCONTAINER hContainer)
{
    ULONG rv;
    LOCK();
    rv = close_obj(__func__, hContainer, KIND_BIT(K_CON));
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_EnumContainer(HAPPLICATION hApplication, LPSTR szContainerName, ULONG *pulSize)
{
    sapp_t *a;
    ULONG rv;
    LOCK();
    if ((rv = enter_app(__func__, hApplication, &a)) == SAR_OK)
        rv = enum_objs(a->dir, &CONS, szContainerName, pulSize);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_GetContainerType(HCONTAINER hContainer, ULONG *pulContainerType)
{
    scon_t *c;
    kv_t kv;
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK || (rv = need_params(pulContainerType != NULL)) != SAR_OK)
        goto out;
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
    if ((rv = need_login(c->app->user_in)) != SAR_OK) goto out;
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
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK || (rv = need_params(pulCertLen != NULL)) != SAR_OK)
        goto out;
    p = cert_path(c, bSignFlag);
    if (!p || read_all(p, &buf, &len) != 0 || len == 0) {
        rv = SAR_CERTNOTFOUNTERR;
        goto out;
    }
    rv = out_copy(pbCert, pulCertLen, buf, len);
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
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK || (rv = need_params(pulBlobLen != NULL)) != SAR_OK)
        goto out;
    if ((rv = con_load(c, &kv)) != SAR_OK) goto out;
    if (kv_get_hex(&kv, bSignFlag ? "sign_pub" : "enc_pub", xy, sizeof xy) != 64) {
        rv = SAR_KEYNOTFOUNTERR;
    } else {
        ECCPUBLICKEYBLOB b;
        pubblob_set(&b, xy, xy + 32);
        rv = out_copy(pbBlob, pulBlobLen, &b, sizeof b);
    }
    kv_free(&kv);
out:
    UNLOCK();
    return rv;
}
