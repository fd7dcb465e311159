/* store.c - on-disk store: paths, name encoding, atomic files, key=value. */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

char *sskf_strtok(char *s, const char *delim, char **save)
{
    char *end;
    if (!s) s = *save;
    if (!s) return NULL;
    s += strspn(s, delim);
    if (!*s) {
        *save = NULL;
        return NULL;
    }
    end = s + strcspn(s, delim);
    if (*end) {
        *end = 0;
        *save = end + 1;
    } else {
        *save = NULL;
    }
    return s;
}

char *store_root(void)
{
    const char *env = getenv("SOFTSKF_STORE");
    if (env && *env) return strdup(env);
    return sskf_default_store();
}

char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%c%s", a, SSKF_PATHSEP, b);
    return p;
}

char *path_join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%c%s%c%s", a, SSKF_PATHSEP, b, SSKF_PATHSEP, c);
    return p;
}

/* Device names are used verbatim as directory names. */
int valid_dev_name(const char *name)
{
    size_t n, i;
    if (!name) return 0;
    n = strlen(name);
    if (n == 0 || n > SSKF_MAX_DEV_NAME) return 0;
    if (!strcmp(name, ".") || !strcmp(name, "..") || name[0] == '.') return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == '/' || c == '\\' || c == ':' || c == '*' || c == '?' || c == '"' ||
            c == '<' || c == '>' || c == '|')
            return 0;
    }
    return 1;
}

/* Application, container and file names may hold any byte (GBK, UTF-8, '/'),
 * so they are percent-encoded for the file system: [A-Za-z0-9_-] stay,
 * every other byte becomes %XX (upper-case hex). */
int enc_name(const char *name, char *out, size_t outsz)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)name;
    for (; *p; p++) {
        if (isalnum(*p) || *p == '_' || *p == '-') {
            if (o + 1 >= outsz) return -1;
            out[o++] = (char)*p;
        } else {
            if (o + 3 >= outsz) return -1;
            out[o++] = '%';
            out[o++] = hx[*p >> 4];
            out[o++] = hx[*p & 15];
        }
    }
    if (o >= outsz) return -1;
    out[o] = 0;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int dec_name(const char *enc, char *out, size_t outsz)
{
    size_t o = 0;
    while (*enc) {
        int c;
        if (*enc == '%') {
            int h = hexval(enc[1]), l = h < 0 ? -1 : hexval(enc[2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            enc += 3;
        } else {
            c = (unsigned char)*enc++;
        }
        if (c == 0 || o + 1 >= outsz) return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

int read_all(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *b;
    *buf = NULL;
    *len = 0;
    if (!f) return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    b = malloc((size_t)n + 1);
    if (!b) {
        fclose(f);
        return -1;
    }
    if (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return -1;
    }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = (size_t)n;
    return 0;
}

/* write to <path>.tmp, flush+fsync, then rename over <path> */
int write_atomic(const char *path, const uint8_t *buf, size_t len)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    FILE *f;
    int rc = -1;
    if (!tmp) return -1;
    snprintf(tmp, n, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (f) {
        if ((len == 0 || fwrite(buf, 1, len, f) == len) && sskf_fsync_file(f) == 0) rc = 0;
        if (fclose(f) != 0) rc = -1;
        if (rc == 0) rc = sskf_rename_replace(tmp, path);
        if (rc != 0) sskf_unlink(tmp);
    }
    free(tmp);
    return rc;
}

int file_exists_at(const char *dir, const char *leaf)
{
    char *p = path_join(dir, leaf);
    int r = p ? sskf_file_exists(p) : 0;
    free(p);
    return r;
}

int dev_present_file(const char *devdir)
{
    return file_exists_at(devdir, "present");
}

/* A present but empty device directory is a blank, factory-fresh key. */
int dev_ensure_state(const char *devdir)
{
    char *conf = path_join(devdir, "device.conf");
    char *apps = path_join(devdir, "apps");
    int rc = -1;
    if (!conf || !apps) goto out;
    if (!sskf_file_exists(conf)) {
        kv_t kv;
        uint8_t sn[8];
        char snhex[17];
        int i;
        memset(&kv, 0, sizeof kv);
        if (!rand_bytes(sn, sizeof sn)) goto out;
        for (i = 0; i < 8; i++) snprintf(snhex + 2 * i, 3, "%02X", sn[i]);
        if (kv_set(&kv, "format", "1") || kv_set(&kv, "label", "SoftSKF") ||
            kv_set(&kv, "serial", snhex) ||
            kv_set_hex(&kv, "authkey", (const uint8_t *)SSKF_DEFAULT_AUTHKEY, 16) ||
            kv_save(conf, &kv)) {
            kv_free(&kv);
            goto out;
        }
        kv_free(&kv);
    }
    if (sskf_mkdir(apps) != 0) goto out;
    rc = 0;
out:
    free(conf);
    free(apps);
    return rc;
}

static int used_cb(const char *name, int is_dir, void *ctx);
struct used_ctx {
    const char *dir;
    unsigned long long total;
};

static unsigned long long used_in(const char *dir)
{
    struct used_ctx c;
    c.dir = dir;
    c.total = 0;
    sskf_listdir(dir, used_cb, &c);
    return c.total;
}

static int used_cb(const char *name, int is_dir, void *vctx)
{
    struct used_ctx *c = vctx;
    char *p = path_join(c->dir, name);
    if (!p) return 0;
    if (is_dir) {
        c->total += used_in(p);
    } else {
        long long n = sskf_file_size(p);
        if (n > 0) c->total += (unsigned long long)n;
    }
    free(p);
    return 0;
}

/* storage accounting: sum of all file sizes under the apps directory */
unsigned long long dev_used_space(const char *devdir)
{
    char *apps = path_join(devdir, "apps");
    unsigned long long n = 0;
    if (apps) n = used_in(apps);
    free(apps);
    return n;
}

/* ------------------------------------------------------------- kv files */
void kv_free(kv_t *kv)
{
    int i;
    for (i = 0; i < kv->n; i++) {
        if (kv->v[i]) secure_zero(kv->v[i], strlen(kv->v[i]));
        free(kv->k[i]);
        free(kv->v[i]);
    }
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof *kv);
}

const char *kv_get(const kv_t *kv, const char *key)
{
    int i;
    for (i = 0; i < kv->n; i++)
        if (!strcmp(kv->k[i], key)) return kv->v[i];
    return NULL;
}

int kv_set(kv_t *kv, const char *key, const char *val)
{
    int i;
    char *nv = strdup(val ? val : "");
    if (!nv) return -1;
    for (i = 0; i < kv->n; i++) {
        if (!strcmp(kv->k[i], key)) {
            free(kv->v[i]);
            kv->v[i] = nv;
            return 0;
        }
    }
    if (kv->n == kv->cap) {
        int cap = kv->cap ? kv->cap * 2 : 16;
        char **nk = realloc(kv->k, sizeof(char *) * (size_t)cap);
        char **nvv;
        if (!nk) {
            free(nv);
            return -1;
        }
        kv->k = nk;
        nvv = realloc(kv->v, sizeof(char *) * (size_t)cap);
        if (!nvv) {
            free(nv);
            return -1;
        }
        kv->v = nvv;
        kv->cap = cap;
    }
    kv->k[kv->n] = strdup(key);
    if (!kv->k[kv->n]) {
        free(nv);
        return -1;
    }
    kv->v[kv->n] = nv;
    kv->n++;
    return 0;
}

static void unescape(char *v)
{
    char *w = v;
    while (*v) {
        int h, l;
        if (v[0] == '%' && (h = hexval(v[1])) >= 0 && (l = hexval(v[2])) >= 0 && (h | l)) {
            *w++ = (char)(h * 16 + l);
            v += 3;
        } else {
            *w++ = *v++;
        }
    }
    *w = 0;
}

int kv_load(const char *path, kv_t *kv)
{
    uint8_t *buf;
    size_t len;
    char *line, *save = NULL;
    memset(kv, 0, sizeof *kv);
    if (read_all(path, &buf, &len) != 0) return -1;
    for (line = sskf_strtok((char *)buf, "\n", &save); line; line = sskf_strtok(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r') line[ll - 1] = 0;
        if (!eq || line[0] == '#') continue;
        *eq = 0;
        unescape(eq + 1);
        if (kv_set(kv, line, eq + 1) != 0) {
            secure_zero(buf, len);
            free(buf);
            kv_free(kv);
            return -1;
        }
    }
    secure_zero(buf, len);
    free(buf);
    return 0;
}

/* values are stored with '%', CR and LF percent-escaped, one key=value a line */
int kv_save(const char *path, const kv_t *kv)
{
    size_t n = 1, o = 0;
    int i, rc;
    char *buf;
    for (i = 0; i < kv->n; i++) n += strlen(kv->k[i]) + 3 * strlen(kv->v[i]) + 2;
    buf = malloc(n);
    if (!buf) return -1;
    for (i = 0; i < kv->n; i++) {
        const char *v;
        o += (size_t)snprintf(buf + o, n - o, "%s=", kv->k[i]);
        for (v = kv->v[i]; *v; v++) {
            if (*v == '%' || *v == '\n' || *v == '\r') o += (size_t)snprintf(buf + o, n - o, "%%%02X", (unsigned char)*v);
            else buf[o++] = *v;
        }
        buf[o++] = '\n';
    }
    rc = write_atomic(path, (const uint8_t *)buf, o);
    secure_zero(buf, n);
    free(buf);
    return rc;
}

int kv_load_at(const char *dir, const char *leaf, kv_t *kv)
{
    char *p = path_join(dir, leaf);
    int rc = p ? kv_load(p, kv) : -2;
    free(p);
    return rc;
}

int kv_save_at(const char *dir, const char *leaf, const kv_t *kv)
{
    char *p = path_join(dir, leaf);
    int rc = p ? kv_save(p, kv) : -1;
    free(p);
    return rc;
}

uint32_t kv_get_u32(const kv_t *kv, const char *key, uint32_t def)
{
    const char *v = kv_get(kv, key);
    char *end;
    unsigned long r;
    if (!v || !*v) return def;
    r = strtoul(v, &end, 0);
    return *end ? def : (uint32_t)r;
}

int kv_set_u32(kv_t *kv, const char *key, uint32_t v)
{
    char b[16];
    snprintf(b, sizeof b, "%lu", (unsigned long)v);
    return kv_set(kv, key, b);
}

int kv_get_hex(const kv_t *kv, const char *key, uint8_t *out, size_t outsz)
{
    const char *v = kv_get(kv, key);
    size_t n, i;
    if (!v) return -1;
    n = strlen(v);
    if (n % 2 || n / 2 > outsz) return -1;
    for (i = 0; i < n / 2; i++) {
        int h = hexval(v[2 * i]), l = hexval(v[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (uint8_t)(h * 16 + l);
    }
    return (int)(n / 2);
}

int kv_set_hex(kv_t *kv, const char *key, const uint8_t *b, size_t n)
{
    char *s = malloc(2 * n + 1);
    size_t i;
    int rc;
    if (!s) return -1;
    for (i = 0; i < n; i++) snprintf(s + 2 * i, 3, "%02x", b[i]);
    s[2 * n] = 0;
    rc = kv_set(kv, key, s);
    secure_zero(s, 2 * n);
    free(s);
    return rc;
}

/* --------------------------------------------------------- name lists */
int nl_add(namelist_t *nl, const char *s)
{
    if (nl->n == nl->cap) {
        int cap = nl->cap ? nl->cap * 2 : 8;
        char **nn = realloc(nl->names, sizeof(char *) * (size_t)cap);
        if (!nn) return -1;
        nl->names = nn;
        nl->cap = cap;
    }
    nl->names[nl->n] = strdup(s);
    if (!nl->names[nl->n]) return -1;
    nl->n++;
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void nl_sort(namelist_t *nl)
{
    if (nl->n > 1) qsort(nl->names, (size_t)nl->n, sizeof(char *), cmpstr);
}

void nl_free(namelist_t *nl)
{
    int i;
    for (i = 0; i < nl->n; i++) free(nl->names[i]);
    free(nl->names);
    memset(nl, 0, sizeof *nl);
}

/* multi-string: "a\0b\0\0"; an empty list is the single byte "\0" */
ULONG nl_output(const namelist_t *nl, LPSTR out, ULONG *size)
{
    size_t need = 1, o = 0;
    int i;
    ULONG rv;
    if (!size) return SAR_INVALIDPARAMERR;
    for (i = 0; i < nl->n; i++) need += strlen(nl->names[i]) + 1;
    if (!out_room(out, size, need, &rv)) return rv;
    for (i = 0; i < nl->n; i++) {
        size_t l = strlen(nl->names[i]) + 1;
        memcpy(out + o, nl->names[i], l);
        o += l;
    }
    out[o] = 0;
    *size = (ULONG)need;
    return SAR_OK;
}

/* ------------------------------------------------------- size protocol */
int out_room(const void *out, ULONG *outlen, size_t need, ULONG *rv)
{
    *rv = SAR_OK;
    if (out && *outlen >= need) return 1;
    if (out) *rv = SAR_BUFFER_TOO_SMALL;
    *outlen = (ULONG)need;
    return 0;
}

ULONG out_copy(void *out, ULONG *outlen, const void *src, size_t n)
{
    ULONG rv;
    if (out_room(out, outlen, n, &rv)) {
        if (n) memcpy(out, src, n);
        *outlen = (ULONG)n;
    }
    return rv;
}
