/* internal.h - private declarations of the softskf virtual UKey. */
#ifndef SOFTSKF_INTERNAL_H
#define SOFTSKF_INTERNAL_H

#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Only the SKF_* entry points are exported: they get default visibility from
 * the declarations in skf.h, everything else is hidden (-fvisibility=hidden).
 * On Windows the export list is softskf.def. */
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(default)
#endif
#include "skf.h"
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

#include "platform.h"

#include <openssl/evp.h>

/* ------------------------------------------------------------ constants */
#define SSKF_MANUFACTURER "BidSeal SoftSKF"
#define SSKF_ISSUER "BidSeal Virtual UKey"
#define SSKF_DEFAULT_AUTHKEY "1234567812345678"
#define SSKF_TOTAL_SPACE (1024u * 1024u)
#define SSKF_MAX_BUFFER 4096u      /* DEVINFO.MaxBufferSize (symmetric) */
#define SSKF_MAX_ECC_BUFFER 1024u  /* DEVINFO.MaxECCBufferSize */
#define SSKF_MAX_APPS 8
#define SSKF_MAX_CONTAINERS 16
#define SSKF_MAX_FILES 64
#define SSKF_MAX_APP_NAME 32
#define SSKF_MAX_DEV_NAME 64
#define SSKF_MAX_RETRY 15
#define SSKF_PBKDF_ITER 2000

/* ------------------------------------------------------------- handles */
enum { K_DEV = 1, K_APP, K_CON, K_KEY, K_HASH, K_MAC };

typedef struct sobj {
    uint32_t magic;
    int kind;
    struct sobj *next, *prev;
} sobj_t;

typedef struct sdev {
    sobj_t o;
    char name[SSKF_MAX_DEV_NAME + 1];
    char *dir;        /* <store>/<name> */
    int removed;      /* sticky: present file seen missing */
    int authed;       /* DevAuth succeeded on this handle */
    uint8_t rnd[16];  /* last GenRandom output (zero padded) */
    int rnd_valid;
    int locked;       /* LockDev held by this handle */
} sdev_t;

typedef struct sapp {
    sobj_t o;
    sdev_t *dev;
    char name[SSKF_MAX_APP_NAME + 1];
    char *dir;
    int user_in, admin_in;
} sapp_t;

typedef struct scon {
    sobj_t o;
    sapp_t *app;
    char name[MAX_CONTAINER_NAME_SIZE + 1];
    char *dir;
} scon_t;

typedef struct skey {
    sobj_t o;
    sdev_t *dev;
    ULONG alg;
    uint8_t key[16];
    int op;           /* 0 none, 1 encrypt, 2 decrypt */
    int padding;
    EVP_CIPHER_CTX *ctx;
    uint8_t buf[16];
    size_t buflen;
} skey_t;

typedef struct shash {
    sobj_t o;
    sdev_t *dev;
    EVP_MD_CTX *md;
    int done;
} shash_t;

typedef struct smac {
    sobj_t o;
    sdev_t *dev;
    EVP_CIPHER_CTX *ctx;  /* SM4-CBC, no padding, IV = param IV */
    uint8_t last[16];
    uint8_t buf[16];
    size_t buflen;
    int done;
} smac_t;

/* handles.c */
void *h_new(int kind, size_t size);
void *h_get(HANDLE h, int kind);
void h_free(void *obj);             /* frees object and its dependants */
void h_free_all(void);
sdev_t *h_dev_of(void *obj);
sdev_t *h_find_locked(const char *dir, sdev_t *except);
void *h_find_by_dir(int kind, const char *dir);
void sskf_wait_cleanup(void);

/* Entry helpers (called with the global lock held). Each counts the call
 * for fault injection, validates the handle kind, applies an injected fault
 * and checks that the device is still present. */
ULONG enter_dev(const char *fn, HANDLE h, sdev_t **out);
ULONG enter_app(const char *fn, HANDLE h, sapp_t **out);
ULONG enter_con(const char *fn, HANDLE h, scon_t **out);
ULONG enter_key(const char *fn, HANDLE h, skey_t **out);
ULONG enter_hash(const char *fn, HANDLE h, shash_t **out);
ULONG enter_mac(const char *fn, HANDLE h, smac_t **out);
/* for functions without a handle: dir may be NULL */
ULONG enter_plain(const char *fn, const char *devdir);
/* enter_plain(fn, NULL) taking and releasing the global lock itself, for
 * calls that do not hold it afterwards */
ULONG enter_plain_locked(const char *fn);
/* presence check for a device (marks it removed) */
int dev_present(sdev_t *d);
/* Close/Disconnect/CloseHandle: counts the call, applies a fault and always
 * releases the handle if it is one of the kinds in kind_mask (KIND_BIT). */
#define KIND_BIT(k) (1u << (k))
ULONG close_obj(const char *fn, HANDLE h, unsigned kind_mask);

/* argument checks that follow the handle check:
 *   if ((rv = enter_x(...)) != SAR_OK || (rv = need_params(p != NULL)) != SAR_OK) goto out; */
ULONG need_params(int ok);      /* SAR_OK or SAR_INVALIDPARAMERR */
ULONG need_login(int logged_in); /* SAR_OK or SAR_USER_NOT_LOGGED_IN */

/* fault.c */
#define FAULT_NONE 0
#define FAULT_CODE 1
#define FAULT_REMOVE 2
#define FAULT_CRASH 3
#define FAULT_HANG 4
#define FAULT_CHATTER 5 /* print a vendor-style debug line (SOFTSKF_CHATTER) to stdout and stderr, then run normally */
int fault_tick(const char *fn, ULONG *code);
void fault_reload_if_changed(void);
void fault_cleanup(void);
ULONG fault_apply(int action, ULONG code, sdev_t *dev, const char *devdir);

/* store.c */
char *store_root(void);                        /* malloc'd */
char *path_join(const char *a, const char *b); /* malloc'd */
char *path_join3(const char *a, const char *b, const char *c);
int valid_dev_name(const char *name);
int enc_name(const char *name, char *out, size_t outsz);  /* 0 ok */
int dec_name(const char *enc, char *out, size_t outsz);   /* 0 ok */
int read_all(const char *path, uint8_t **buf, size_t *len); /* 0 ok */
int write_atomic(const char *path, const uint8_t *buf, size_t len); /* 0 ok */
int dev_present_file(const char *devdir);
int dev_ensure_state(const char *devdir);       /* 0 ok */
unsigned long long dev_used_space(const char *devdir);

typedef struct kv {
    int n, cap;
    char **k, **v;
} kv_t;
int kv_load(const char *path, kv_t *kv);  /* 0 ok, -1 missing/corrupt */
int kv_save(const char *path, const kv_t *kv);
void kv_free(kv_t *kv);
const char *kv_get(const kv_t *kv, const char *key);
int kv_set(kv_t *kv, const char *key, const char *val);
uint32_t kv_get_u32(const kv_t *kv, const char *key, uint32_t def);
int kv_set_u32(kv_t *kv, const char *key, uint32_t v);
int kv_get_hex(const kv_t *kv, const char *key, uint8_t *out, size_t outsz); /* len or -1 */
int kv_set_hex(kv_t *kv, const char *key, const uint8_t *b, size_t n);
/* <dir>/<leaf> helpers. kv_load_at: 0 ok, -1 missing/corrupt, -2 no memory
 * for the path (kv untouched); kv_save_at: 0 ok. */
int kv_load_at(const char *dir, const char *leaf, kv_t *kv);
int kv_save_at(const char *dir, const char *leaf, const kv_t *kv);
int file_exists_at(const char *dir, const char *leaf);

/* portable strtok_r */
char *sskf_strtok(char *s, const char *delim, char **save);

/* multi-string list builder */
typedef struct namelist {
    int n, cap;
    char **names;
} namelist_t;
int nl_add(namelist_t *nl, const char *s);
void nl_sort(namelist_t *nl);
void nl_free(namelist_t *nl);
ULONG nl_output(const namelist_t *nl, LPSTR out, ULONG *size);

/* Size protocol of every output buffer: a NULL out gives *outlen = need and
 * SAR_OK, a short one *outlen = need and SAR_BUFFER_TOO_SMALL; out_room then
 * returns 0 (nothing to write), otherwise 1 with *rv = SAR_OK. */
int out_room(const void *out, ULONG *outlen, size_t need, ULONG *rv);
/* out_room + copy n bytes of src and set *outlen = n */
ULONG out_copy(void *out, ULONG *outlen, const void *src, size_t n);

/* gm.c */
int sm2_gen(uint8_t d[32], uint8_t x[32], uint8_t y[32]);
int sm2_pub_of(const uint8_t d[32], uint8_t x[32], uint8_t y[32]);
int sm2_sign_e(const uint8_t d[32], const uint8_t e[32], uint8_t r[32], uint8_t s[32]);
int sm2_verify_e(const uint8_t x[32], const uint8_t y[32], const uint8_t e[32],
                 const uint8_t r[32], const uint8_t s[32]); /* 1 ok, 0 bad, -1 err */
int sm2_encrypt(const uint8_t x[32], const uint8_t y[32], const uint8_t *in, size_t n,
                uint8_t c1x[32], uint8_t c1y[32], uint8_t c3[32], uint8_t *c2);
int sm2_decrypt(const uint8_t d[32], const uint8_t c1x[32], const uint8_t c1y[32],
                const uint8_t c3[32], const uint8_t *c2, size_t n, uint8_t *out);
int sm2_valid_priv(const uint8_t d[32]);
int sm3_z(const uint8_t x[32], const uint8_t y[32], const uint8_t *id, size_t idlen,
          uint8_t z[32]);
int sm4_ecb(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t n, int enc);
int rand_bytes(uint8_t *b, size_t n);
int pin_hash(const char *pin, const uint8_t salt[16], uint8_t out[32]);
void secure_zero(void *p, size_t n);

/* blob helpers (return SAR code) */
ULONG pubblob_get(const ECCPUBLICKEYBLOB *b, uint8_t x[32], uint8_t y[32]);
void pubblob_set(ECCPUBLICKEYBLOB *b, const uint8_t x[32], const uint8_t y[32]);

/* skf_app.c helpers used by crypto code */
ULONG con_load(scon_t *c, kv_t *kv);
ULONG con_save(scon_t *c, const kv_t *kv);
int app_user_logged(sapp_t *a);

#ifdef _MSC_VER
#define strdup _strdup
#endif

#endif
