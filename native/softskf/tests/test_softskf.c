/* test_softskf.c - black-box tests of libsoftskf through dlopen().
 *
 *   test_softskf [path/to/libsoftskf.so]
 *
 * Creates a temporary SOFTSKF_STORE, drives the whole SKF interface and
 * checks results independently with OpenSSL. Fault-injection scenarios run
 * in re-executed child processes (fresh per-function call counters). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "skf.h"

#define SKF_FUNCS(X) \
    X(SKF_CancelWaitForDevEvent) \
    X(SKF_ChangeDevAuthKey) \
    X(SKF_ChangePIN) \
    X(SKF_ClearSecureState) \
    X(SKF_CloseApplication) \
    X(SKF_CloseContainer) \
    X(SKF_CloseHandle) \
    X(SKF_ConnectDev) \
    X(SKF_CreateApplication) \
    X(SKF_CreateContainer) \
    X(SKF_CreateFile) \
    X(SKF_Decrypt) \
    X(SKF_DecryptFinal) \
    X(SKF_DecryptInit) \
    X(SKF_DecryptUpdate) \
    X(SKF_DeleteApplication) \
    X(SKF_DeleteContainer) \
    X(SKF_DeleteFile) \
    X(SKF_DevAuth) \
    X(SKF_Digest) \
    X(SKF_DigestFinal) \
    X(SKF_DigestInit) \
    X(SKF_DigestUpdate) \
    X(SKF_DisConnectDev) \
    X(SKF_ECCExportSessionKey) \
    X(SKF_ECCSignData) \
    X(SKF_ECCVerify) \
    X(SKF_Encrypt) \
    X(SKF_EncryptFinal) \
    X(SKF_EncryptInit) \
    X(SKF_EncryptUpdate) \
    X(SKF_EnumApplication) \
    X(SKF_EnumContainer) \
    X(SKF_EnumDev) \
    X(SKF_EnumFiles) \
    X(SKF_ExportCertificate) \
    X(SKF_ExportPublicKey) \
    X(SKF_ExtECCDecrypt) \
    X(SKF_ExtECCEncrypt) \
    X(SKF_ExtECCSign) \
    X(SKF_ExtECCVerify) \
    X(SKF_ExtRSAPriKeyOperation) \
    X(SKF_ExtRSAPubKeyOperation) \
    X(SKF_GenECCKeyPair) \
    X(SKF_GenExtRSAKey) \
    X(SKF_GenRSAKeyPair) \
    X(SKF_GenRandom) \
    X(SKF_GenerateAgreementDataAndKeyWithECC) \
    X(SKF_GenerateAgreementDataWithECC) \
    X(SKF_GenerateKeyWithECC) \
    X(SKF_GetContainerType) \
    X(SKF_GetDevInfo) \
    X(SKF_GetDevState) \
    X(SKF_GetFileInfo) \
    X(SKF_GetPINInfo) \
    X(SKF_ImportCertificate) \
    X(SKF_ImportECCKeyPair) \
    X(SKF_ImportRSAKeyPair) \
    X(SKF_ImportSessionKey) \
    X(SKF_LockDev) \
    X(SKF_Mac) \
    X(SKF_MacFinal) \
    X(SKF_MacInit) \
    X(SKF_MacUpdate) \
    X(SKF_OpenApplication) \
    X(SKF_OpenContainer) \
    X(SKF_RSAExportSessionKey) \
    X(SKF_RSASignData) \
    X(SKF_RSAVerify) \
    X(SKF_ReadFile) \
    X(SKF_SetLabel) \
    X(SKF_SetSymmKey) \
    X(SKF_Transmit) \
    X(SKF_UnblockPIN) \
    X(SKF_UnlockDev) \
    X(SKF_VerifyPIN) \
    X(SKF_WaitForDevEvent) \
    X(SKF_WriteFile)

#define TRUE_ 1
#define FALSE_ 0
#define DECLP(n) static __typeof__(n) *p_##n;
SKF_FUNCS(DECLP)

static void *g_lib;
static const char *g_libpath;
static char g_self[4096]; /* this executable (argv[0]; /proc/self/exe is valgrind under valgrind) */
static char g_store[256];

static int load_lib(void)
{
    g_lib = dlopen(g_libpath, RTLD_NOW | RTLD_LOCAL);
    if (!g_lib) {
        fprintf(stderr, "dlopen %s: %s\n", g_libpath, dlerror());
        return -1;
    }
#define LOADP(n)                                                    \
    *(void **)(&p_##n) = dlsym(g_lib, #n);                          \
    if (!p_##n) {                                                   \
        fprintf(stderr, "missing symbol %s\n", #n);                 \
        return -1;                                                  \
    }
    SKF_FUNCS(LOADP)
    return 0;
}

static void unload_lib(void)
{
    if (g_lib) dlclose(g_lib);
    g_lib = NULL;
}

/* from here on, SKF_Xxx(...) calls go through the dlsym'd pointers */
#define SKF_CancelWaitForDevEvent (*p_SKF_CancelWaitForDevEvent)
#define SKF_ChangeDevAuthKey (*p_SKF_ChangeDevAuthKey)
#define SKF_ChangePIN (*p_SKF_ChangePIN)
#define SKF_ClearSecureState (*p_SKF_ClearSecureState)
#define SKF_CloseApplication (*p_SKF_CloseApplication)
#define SKF_CloseContainer (*p_SKF_CloseContainer)
#define SKF_CloseHandle (*p_SKF_CloseHandle)
#define SKF_ConnectDev (*p_SKF_ConnectDev)
#define SKF_CreateApplication (*p_SKF_CreateApplication)
#define SKF_CreateContainer (*p_SKF_CreateContainer)
#define SKF_CreateFile (*p_SKF_CreateFile)
#define SKF_Decrypt (*p_SKF_Decrypt)
#define SKF_DecryptFinal (*p_SKF_DecryptFinal)
#define SKF_DecryptInit (*p_SKF_DecryptInit)
#define SKF_DecryptUpdate (*p_SKF_DecryptUpdate)
#define SKF_DeleteApplication (*p_SKF_DeleteApplication)
#define SKF_DeleteContainer (*p_SKF_DeleteContainer)
#define SKF_DeleteFile (*p_SKF_DeleteFile)
#define SKF_DevAuth (*p_SKF_DevAuth)
#define SKF_Digest (*p_SKF_Digest)
#define SKF_DigestFinal (*p_SKF_DigestFinal)
#define SKF_DigestInit (*p_SKF_DigestInit)
#define SKF_DigestUpdate (*p_SKF_DigestUpdate)
#define SKF_DisConnectDev (*p_SKF_DisConnectDev)
#define SKF_ECCExportSessionKey (*p_SKF_ECCExportSessionKey)
#define SKF_ECCSignData (*p_SKF_ECCSignData)
#define SKF_ECCVerify (*p_SKF_ECCVerify)
#define SKF_Encrypt (*p_SKF_Encrypt)
#define SKF_EncryptFinal (*p_SKF_EncryptFinal)
#define SKF_EncryptInit (*p_SKF_EncryptInit)
#define SKF_EncryptUpdate (*p_SKF_EncryptUpdate)
#define SKF_EnumApplication (*p_SKF_EnumApplication)
#define SKF_EnumContainer (*p_SKF_EnumContainer)
#define SKF_EnumDev (*p_SKF_EnumDev)
#define SKF_EnumFiles (*p_SKF_EnumFiles)
#define SKF_ExportCertificate (*p_SKF_ExportCertificate)
#define SKF_ExportPublicKey (*p_SKF_ExportPublicKey)
#define SKF_ExtECCDecrypt (*p_SKF_ExtECCDecrypt)
#define SKF_ExtECCEncrypt (*p_SKF_ExtECCEncrypt)
#define SKF_ExtECCSign (*p_SKF_ExtECCSign)
#define SKF_ExtECCVerify (*p_SKF_ExtECCVerify)
#define SKF_ExtRSAPriKeyOperation (*p_SKF_ExtRSAPriKeyOperation)
#define SKF_ExtRSAPubKeyOperation (*p_SKF_ExtRSAPubKeyOperation)
#define SKF_GenECCKeyPair (*p_SKF_GenECCKeyPair)
#define SKF_GenExtRSAKey (*p_SKF_GenExtRSAKey)
#define SKF_GenRSAKeyPair (*p_SKF_GenRSAKeyPair)
#define SKF_GenRandom (*p_SKF_GenRandom)
#define SKF_GenerateAgreementDataAndKeyWithECC (*p_SKF_GenerateAgreementDataAndKeyWithECC)
#define SKF_GenerateAgreementDataWithECC (*p_SKF_GenerateAgreementDataWithECC)
#define SKF_GenerateKeyWithECC (*p_SKF_GenerateKeyWithECC)
#define SKF_GetContainerType (*p_SKF_GetContainerType)
#define SKF_GetDevInfo (*p_SKF_GetDevInfo)
#define SKF_GetDevState (*p_SKF_GetDevState)
#define SKF_GetFileInfo (*p_SKF_GetFileInfo)
#define SKF_GetPINInfo (*p_SKF_GetPINInfo)
#define SKF_ImportCertificate (*p_SKF_ImportCertificate)
#define SKF_ImportECCKeyPair (*p_SKF_ImportECCKeyPair)
#define SKF_ImportRSAKeyPair (*p_SKF_ImportRSAKeyPair)
#define SKF_ImportSessionKey (*p_SKF_ImportSessionKey)
#define SKF_LockDev (*p_SKF_LockDev)
#define SKF_Mac (*p_SKF_Mac)
#define SKF_MacFinal (*p_SKF_MacFinal)
#define SKF_MacInit (*p_SKF_MacInit)
#define SKF_MacUpdate (*p_SKF_MacUpdate)
#define SKF_OpenApplication (*p_SKF_OpenApplication)
#define SKF_OpenContainer (*p_SKF_OpenContainer)
#define SKF_RSAExportSessionKey (*p_SKF_RSAExportSessionKey)
#define SKF_RSASignData (*p_SKF_RSASignData)
#define SKF_RSAVerify (*p_SKF_RSAVerify)
#define SKF_ReadFile (*p_SKF_ReadFile)
#define SKF_SetLabel (*p_SKF_SetLabel)
#define SKF_SetSymmKey (*p_SKF_SetSymmKey)
#define SKF_Transmit (*p_SKF_Transmit)
#define SKF_UnblockPIN (*p_SKF_UnblockPIN)
#define SKF_UnlockDev (*p_SKF_UnlockDev)
#define SKF_VerifyPIN (*p_SKF_VerifyPIN)
#define SKF_WaitForDevEvent (*p_SKF_WaitForDevEvent)
#define SKF_WriteFile (*p_SKF_WriteFile)


/* ---------------------------------------------------------- mini asserts */
static int g_pass, g_fail;
#define CHECK(c)                                                                    \
    do {                                                                            \
        if (c) g_pass++;                                                            \
        else {                                                                      \
            g_fail++;                                                               \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);            \
        }                                                                           \
    } while (0)
#define CHECK_RV(expr, want)                                                        \
    do {                                                                            \
        ULONG r_ = (expr);                                                          \
        if (r_ == (ULONG)(want)) g_pass++;                                          \
        else {                                                                      \
            g_fail++;                                                               \
            fprintf(stderr, "FAIL %s:%d: %s = 0x%08X, want 0x%08X\n", __FILE__,     \
                    __LINE__, #expr, (unsigned)r_, (unsigned)(want));               \
        }                                                                           \
    } while (0)
#define SECTION(name) fprintf(stderr, "-- %s\n", name)

/* ------------------------------------------------------------- helpers */
static void dev_path(char *out, size_t n, const char *dev, const char *leaf)
{
    snprintf(out, n, "%s/%s%s%s", g_store, dev, leaf ? "/" : "", leaf ? leaf : "");
}

static void plug(const char *dev)
{
    char p[512];
    FILE *f;
    dev_path(p, sizeof p, dev, NULL);
    mkdir(p, 0700);
    dev_path(p, sizeof p, dev, "present");
    f = fopen(p, "w");
    if (f) fclose(f);
}

static void unplug(const char *dev)
{
    char p[512];
    dev_path(p, sizeof p, dev, "present");
    unlink(p);
}

static int is_plugged(const char *dev)
{
    char p[512];
    dev_path(p, sizeof p, dev, "present");
    return access(p, F_OK) == 0;
}

static void hexdec(const char *hex, uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static const char *AUTHKEY = "1234567812345678";
static const char *DEV = "SoftKey-A";
static const char *APP = "BidSealApp";
static const char *CON = "SealContainer";
static const char *ADMIN_PIN = "admin12345";
static const char *USER_PIN = "123456";

static ULONG dev_auth(DEVHANDLE h, const char *key16)
{
    uint8_t rnd[16], out[16];
    int l = 0, l2 = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ULONG rv = SKF_GenRandom(h, rnd, 16);
    if (rv != SAR_OK) {
        EVP_CIPHER_CTX_free(c);
        return rv;
    }
    EVP_EncryptInit_ex(c, EVP_sm4_ecb(), NULL, (const uint8_t *)key16, NULL);
    EVP_CIPHER_CTX_set_padding(c, 0);
    EVP_EncryptUpdate(c, out, &l, rnd, 16);
    EVP_EncryptFinal_ex(c, out + l, &l2);
    EVP_CIPHER_CTX_free(c);
    return SKF_DevAuth(h, out, 16);
}

static EVP_PKEY *pkey_from(const uint8_t *d, const uint8_t x[32], const uint8_t y[32])
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY *pk = NULL;
    BIGNUM *bn = NULL;
    uint8_t pub[65];
    pub[0] = 4;
    memcpy(pub + 1, x, 32);
    memcpy(pub + 33, y, 32);
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65);
    if (d) {
        bn = BN_bin2bn(d, 32, NULL);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn);
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_fromdata_init(ctx);
    EVP_PKEY_fromdata(ctx, &pk, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn);
    return pk;
}

static void gen_keypair(uint8_t d[32], uint8_t x[32], uint8_t y[32])
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    BIGNUM *bd = NULL, *bx = NULL, *by = NULL;
    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bd);
    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx);
    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by);
    BN_bn2binpad(bd, d, 32);
    BN_bn2binpad(bx, x, 32);
    BN_bn2binpad(by, y, 32);
    BN_free(bd);
    BN_free(bx);
    BN_free(by);
    EVP_PKEY_free(pk);
}

static void pub_blob(ECCPUBLICKEYBLOB *b, const uint8_t x[32], const uint8_t y[32])
{
    memset(b, 0, sizeof *b);
    b->BitLen = 256;
    memcpy(b->XCoordinate + 32, x, 32);
    memcpy(b->YCoordinate + 32, y, 32);
}

/* DER SM2Cipher <-> ECCCIPHERBLOB, independent from the library's code */
static size_t der_hdr(uint8_t *p, uint8_t tag, size_t n)
{
    p[0] = tag;
    if (n < 128) {
        p[1] = (uint8_t)n;
        return 2;
    }
    if (n < 256) {
        p[1] = 0x81;
        p[2] = (uint8_t)n;
        return 3;
    }
    p[1] = 0x82;
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    return 4;
}

static size_t der_int(uint8_t *p, const uint8_t v[32])
{
    int k = 0;
    size_t o;
    uint8_t tmp[33];
    size_t n;
    while (k < 31 && v[k] == 0) k++;
    n = 0;
    if (v[k] & 0x80) tmp[n++] = 0;
    memcpy(tmp + n, v + k, 32 - (size_t)k);
    n += 32 - (size_t)k;
    o = der_hdr(p, 0x02, n);
    memcpy(p + o, tmp, n);
    return o + n;
}

static size_t blob_to_der(const ECCCIPHERBLOB *b, uint8_t *out)
{
    uint8_t body[2048];
    size_t o = 0, h;
    o += der_int(body + o, b->XCoordinate + 32);
    o += der_int(body + o, b->YCoordinate + 32);
    o += der_hdr(body + o, 0x04, 32);
    memcpy(body + o, b->HASH, 32);
    o += 32;
    o += der_hdr(body + o, 0x04, b->CipherLen);
    memcpy(body + o, b->Cipher, b->CipherLen);
    o += b->CipherLen;
    h = der_hdr(out, 0x30, o);
    memcpy(out + h, body, o);
    return h + o;
}

static const uint8_t *der_rd(const uint8_t *p, uint8_t tag, size_t *len)
{
    size_t n;
    if (*p++ != tag) return NULL;
    n = *p++;
    if (n & 0x80) {
        int k = n & 0x7f;
        n = 0;
        while (k--) n = (n << 8) | *p++;
    }
    *len = n;
    return p;
}

static int der_to_blob(const uint8_t *der, ECCCIPHERBLOB *b)
{
    size_t l;
    const uint8_t *p = der_rd(der, 0x30, &l), *c;
    if (!p) return 0;
    memset(b, 0, 164);
    c = der_rd(p, 0x02, &l);
    if (l > 33) return 0;
    if (l == 33) c++, l--;
    memcpy(b->XCoordinate + 64 - l, c, l);
    p = c + l;
    c = der_rd(p, 0x02, &l);
    if (l == 33) c++, l--;
    memcpy(b->YCoordinate + 64 - l, c, l);
    p = c + l;
    c = der_rd(p, 0x04, &l);
    if (l != 32) return 0;
    memcpy(b->HASH, c, 32);
    p = c + l;
    c = der_rd(p, 0x04, &l);
    b->CipherLen = (ULONG)l;
    memcpy(b->Cipher, c, l);
    return 1;
}

/* OpenSSL SM2 encryption to (x,y) -> ECCCIPHERBLOB (caller: 164+n bytes) */
static int ossl_encrypt(const uint8_t x[32], const uint8_t y[32], const uint8_t *in, size_t n, ECCCIPHERBLOB *b)
{
    EVP_PKEY *pk = pkey_from(NULL, x, y);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    uint8_t der[2048];
    size_t dl = sizeof der;
    int ok = EVP_PKEY_encrypt_init(ctx) > 0 && EVP_PKEY_encrypt(ctx, der, &dl, in, n) > 0 && der_to_blob(der, b);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok;
}

static int ossl_decrypt(const uint8_t d[32], const uint8_t x[32], const uint8_t y[32], const ECCCIPHERBLOB *b,
                        uint8_t *out, size_t *outlen)
{
    EVP_PKEY *pk = pkey_from(d, x, y);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    uint8_t der[2048];
    size_t dl = blob_to_der(b, der);
    int ok = EVP_PKEY_decrypt_init(ctx) > 0 && EVP_PKEY_decrypt(ctx, out, outlen, der, dl) > 0;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok;
}

static size_t sig_to_der(const ECCSIGNATUREBLOB *s, uint8_t *out)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *p = out;
    int n;
    ECDSA_SIG_set0(sig, BN_bin2bn(s->r + 32, 32, NULL), BN_bin2bn(s->s + 32, 32, NULL));
    n = i2d_ECDSA_SIG(sig, &p);
    ECDSA_SIG_free(sig);
    return (size_t)n;
}

static int sm4(const EVP_CIPHER *cip, const uint8_t *key, const uint8_t *iv, int pad, int enc, const uint8_t *in,
               size_t n, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, l2 = 0;
    EVP_CipherInit_ex(c, cip, NULL, key, iv, enc);
    EVP_CIPHER_CTX_set_padding(c, pad);
    if (EVP_CipherUpdate(c, out, &l, in, (int)n) != 1 || EVP_CipherFinal_ex(c, out + l, &l2) != 1) l = -1 - l2;
    EVP_CIPHER_CTX_free(c);
    return l < 0 ? -1 : l + l2;
}

/* open device/app/container with user login */
static int open_all(DEVHANDLE *hd, HAPPLICATION *ha, HCONTAINER *hc)
{
    ULONG retry = 0;
    *hd = *ha = *hc = NULL;
    if (SKF_ConnectDev((LPSTR)DEV, hd) != SAR_OK) return 0;
    if (SKF_OpenApplication(*hd, (LPSTR)APP, ha) != SAR_OK) return 0;
    if (SKF_VerifyPIN(*ha, USER_TYPE, (LPSTR)USER_PIN, &retry) != SAR_OK) return 0;
    if (SKF_OpenContainer(*ha, (LPSTR)CON, hc) != SAR_OK) return 0;
    return 1;
}

/* =================================================================== tests */
static void test_enum_and_connect(void)
{
    char buf[256];
    ULONG sz = 0, st = 99;
    DEVHANDLE h = NULL, h2 = NULL;
    DEVINFO info;

    SECTION("enumeration, state, connect");
    CHECK_RV(SKF_EnumDev(TRUE_, NULL, &sz), SAR_OK);
    CHECK(sz == 1); /* empty list: a single NUL */
    plug(DEV);
    plug("SoftKey-B");
    unplug("SoftKey-B"); /* known but absent */
    CHECK_RV(SKF_EnumDev(TRUE_, NULL, &sz), SAR_OK);
    CHECK(sz == strlen(DEV) + 2);
    sz = 3;
    CHECK_RV(SKF_EnumDev(TRUE_, buf, &sz), SAR_BUFFER_TOO_SMALL);
    CHECK(sz == strlen(DEV) + 2);
    sz = sizeof buf;
    CHECK_RV(SKF_EnumDev(TRUE_, buf, &sz), SAR_OK);
    CHECK(!strcmp(buf, DEV) && buf[strlen(DEV) + 1] == 0);
    sz = sizeof buf;
    CHECK_RV(SKF_EnumDev(FALSE_, buf, &sz), SAR_OK);
    CHECK(sz == strlen(DEV) + 1 + strlen("SoftKey-B") + 1 + 1);
    CHECK(!strcmp(buf, DEV) && !strcmp(buf + strlen(DEV) + 1, "SoftKey-B"));
    CHECK_RV(SKF_EnumDev(TRUE_, buf, NULL), SAR_INVALIDPARAMERR);

    CHECK_RV(SKF_GetDevState((LPSTR)DEV, &st), SAR_OK);
    CHECK(st == DEV_PRESENT_STATE);
    CHECK_RV(SKF_GetDevState("SoftKey-B", &st), SAR_OK);
    CHECK(st == DEV_ABSENT_STATE);
    CHECK_RV(SKF_GetDevState("nope", &st), SAR_OK);
    CHECK(st == DEV_ABSENT_STATE);

    CHECK_RV(SKF_ConnectDev("SoftKey-B", &h), SAR_DEVICE_REMOVED);
    CHECK_RV(SKF_ConnectDev("../etc", &h), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_ConnectDev(NULL, &h), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, NULL), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
    CHECK(h != NULL);

    memset(&info, 0xAA, sizeof info);
    CHECK_RV(SKF_GetDevInfo(h, &info), SAR_OK);
    CHECK(info.Version.major == 1 && info.Version.minor == 0);
    CHECK(!strcmp(info.Manufacturer, "BidSeal SoftSKF"));
    CHECK(strlen(info.SerialNumber) == 16);
    CHECK(info.AlgSymCap == (SGD_SMS4_ECB | SGD_SMS4_CBC | SGD_SMS4_MAC));
    CHECK(info.AlgAsymCap == (SGD_SM2_1 | SGD_SM2_3));
    CHECK(info.AlgHashCap == SGD_SM3);
    CHECK(info.DevAuthAlgId == SGD_SMS4_ECB);
    CHECK(info.TotalSpace > 0 && info.FreeSpace <= info.TotalSpace);
    CHECK(info.MaxBufferSize >= 1024 && info.MaxECCBufferSize >= 136);
    CHECK_RV(SKF_GetDevInfo(h, NULL), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_GetDevInfo(NULL, &info), SAR_INVALIDHANDLEERR);
    CHECK_RV(SKF_GetDevInfo((DEVHANDLE)&info, &info), SAR_INVALIDHANDLEERR);

    CHECK_RV(SKF_SetLabel(h, "My Seal Key"), SAR_OK);
    CHECK_RV(SKF_SetLabel(h, "0123456789012345678901234567890123456789"), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_SetLabel(h, "evil\nauthkey=00"), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_GetDevInfo(h, &info), SAR_OK);
    CHECK(!strcmp(info.Label, "My Seal Key"));

    CHECK_RV(SKF_LockDev(h, 0xFFFFFFFF), SAR_OK);
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h2), SAR_OK);
    CHECK_RV(SKF_LockDev(h2, 50), SAR_TIMEOUTERR);
    CHECK_RV(SKF_UnlockDev(h), SAR_OK);
    CHECK_RV(SKF_LockDev(h2, 50), SAR_OK);
    CHECK_RV(SKF_UnlockDev(h2), SAR_OK);
    CHECK_RV(SKF_DisConnectDev(h2), SAR_OK);
    CHECK_RV(SKF_DisConnectDev(h2), SAR_INVALIDHANDLEERR);
    CHECK_RV(SKF_Transmit(h, (BYTE *)"x", 1, (BYTE *)buf, &sz), SAR_NOTSUPPORTYETERR);
    CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
}

static void test_provision(ECCPUBLICKEYBLOB *signpub, uint8_t encd[32], uint8_t encx[32], uint8_t ency[32])
{
    DEVHANDLE h = NULL, h2 = NULL;
    HAPPLICATION ha = NULL, ha2 = NULL;
    HCONTAINER hc = NULL, hc2 = NULL;
    uint8_t rnd[16], bad[16];
    char buf[512];
    ULONG sz, retry = 0, type = 9, max = 0, remain = 0;
    BOOL def = 0;
    ECCPUBLICKEYBLOB pub, pub2;
    DEVINFO info;

    SECTION("device auth, application, container, keys, certificates");
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
    CHECK_RV(SKF_CreateApplication(h, (LPSTR)APP, (LPSTR)ADMIN_PIN, 10, (LPSTR)USER_PIN, 5, SECURE_ANYONE_ACCOUNT,
                                   &ha),
             SAR_USER_NOT_LOGGED_IN);
    CHECK_RV(SKF_DevAuth(h, rnd, 16), SAR_FAIL); /* no challenge yet */
    CHECK_RV(SKF_GenRandom(h, rnd, 16), SAR_OK);
    memset(bad, 0, sizeof bad);
    CHECK_RV(SKF_DevAuth(h, bad, 16), SAR_FAIL);
    CHECK_RV(SKF_DevAuth(h, bad, 8), SAR_INVALIDPARAMERR);
    /* 8-byte challenge, zero padded */
    {
        uint8_t r8[16], out[16];
        memset(r8, 0, sizeof r8);
        CHECK_RV(SKF_GenRandom(h, r8, 8), SAR_OK);
        CHECK(sm4(EVP_sm4_ecb(), (const uint8_t *)AUTHKEY, NULL, 0, 1, r8, 16, out) == 16);
        CHECK_RV(SKF_DevAuth(h, out, 16), SAR_OK);
    }
    CHECK_RV(SKF_ChangeDevAuthKey(h, (BYTE *)"ABCDEFGHIJKLMNOP", 16), SAR_OK);
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h2), SAR_OK);
    CHECK_RV(SKF_ChangeDevAuthKey(h2, (BYTE *)AUTHKEY, 16), SAR_USER_NOT_LOGGED_IN);
    CHECK_RV(dev_auth(h2, AUTHKEY), SAR_FAIL);
    CHECK_RV(dev_auth(h2, "ABCDEFGHIJKLMNOP"), SAR_OK);
    CHECK_RV(SKF_ChangeDevAuthKey(h2, (BYTE *)AUTHKEY, 16), SAR_OK);
    CHECK_RV(SKF_DisConnectDev(h2), SAR_OK);
    CHECK_RV(dev_auth(h, AUTHKEY), SAR_OK);

    CHECK_RV(SKF_CreateApplication(h, (LPSTR)APP, "123", 10, (LPSTR)USER_PIN, 5, SECURE_ANYONE_ACCOUNT, &ha),
             SAR_PIN_LEN_RANGE);
    CHECK_RV(SKF_CreateApplication(h, (LPSTR)APP, (LPSTR)ADMIN_PIN, 10, "12345678901234567", 5,
                                   SECURE_ANYONE_ACCOUNT, &ha),
             SAR_PIN_LEN_RANGE);
    CHECK_RV(SKF_CreateApplication(h, "", (LPSTR)ADMIN_PIN, 10, (LPSTR)USER_PIN, 5, SECURE_ANYONE_ACCOUNT, &ha),
             SAR_APPLICATION_NAME_INVALID);
    CHECK_RV(SKF_CreateApplication(h, (LPSTR)APP, (LPSTR)ADMIN_PIN, 10, (LPSTR)USER_PIN, 5, SECURE_USER_ACCOUNT, &ha),
             SAR_OK);
    CHECK_RV(SKF_CreateApplication(h, (LPSTR)APP, (LPSTR)ADMIN_PIN, 10, (LPSTR)USER_PIN, 5, SECURE_ANYONE_ACCOUNT,
                                   &ha2),
             SAR_APPLICATION_EXISTS);
    CHECK_RV(SKF_CreateApplication(h, "应用/2\n%0A=x", (LPSTR)ADMIN_PIN, 3, (LPSTR)USER_PIN, 3, SECURE_ANYONE_ACCOUNT, &ha2),
             SAR_OK);
    sz = sizeof buf;
    CHECK_RV(SKF_EnumApplication(h, buf, &sz), SAR_OK);
    CHECK(!strcmp(buf, APP) && !strcmp(buf + strlen(APP) + 1, "应用/2\n%0A=x"));
    CHECK_RV(SKF_CloseApplication(ha2), SAR_OK);
    CHECK_RV(SKF_OpenApplication(h, "应用/2\n%0A=x", &ha2), SAR_OK);
    CHECK_RV(SKF_VerifyPIN(ha2, ADMIN_TYPE, (LPSTR)ADMIN_PIN, &retry), SAR_OK);
    CHECK_RV(SKF_CreateFile(ha2, "a%b\nc", 4, SECURE_ANYONE_ACCOUNT, SECURE_ANYONE_ACCOUNT), SAR_OK);
    {
        FILEATTRIBUTE fa2;
        CHECK_RV(SKF_GetFileInfo(ha2, "a%b\nc", &fa2), SAR_OK);
        CHECK(fa2.FileSize == 4);
    }
    CHECK_RV(SKF_CloseApplication(ha2), SAR_OK);
    CHECK_RV(SKF_DeleteApplication(h, "应用/2\n%0A=x"), SAR_OK);
    CHECK_RV(SKF_DeleteApplication(h, "应用/2\n%0A=x"), SAR_APPLICATION_NOT_EXISTS);
    CHECK_RV(SKF_OpenApplication(h, "应用/2\n%0A=x", &ha2), SAR_APPLICATION_NOT_EXISTS);
    sz = sizeof buf;
    CHECK_RV(SKF_EnumApplication(h, buf, &sz), SAR_OK);
    CHECK(sz == strlen(APP) + 2);

    CHECK_RV(SKF_GetPINInfo(ha, USER_TYPE, &max, &remain, &def), SAR_OK);
    CHECK(max == 5 && remain == 5 && def == 1);
    CHECK_RV(SKF_GetPINInfo(ha, 7, &max, &remain, &def), SAR_USER_TYPE_INVALID);
    CHECK_RV(SKF_GetPINInfo(h, USER_TYPE, &max, &remain, &def), SAR_INVALIDHANDLEERR);

    /* container needs the user PIN */
    CHECK_RV(SKF_CreateContainer(ha, (LPSTR)CON, &hc), SAR_USER_NOT_LOGGED_IN);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_OK);
    CHECK_RV(SKF_CreateContainer(ha, (LPSTR)CON, &hc), SAR_OK);
    CHECK_RV(SKF_CreateContainer(ha, (LPSTR)CON, &hc2), SAR_FILE_ALREADY_EXIST);
    CHECK_RV(SKF_GetContainerType(hc, &type), SAR_OK);
    CHECK(type == 0);
    sz = sizeof buf;
    CHECK_RV(SKF_EnumContainer(ha, buf, &sz), SAR_OK);
    CHECK(!strcmp(buf, CON) && sz == strlen(CON) + 2);
    CHECK_RV(SKF_ExportPublicKey(hc, TRUE_, (BYTE *)&pub, &sz), SAR_KEYNOTFOUNTERR);
    CHECK_RV(SKF_GenECCKeyPair(hc, SGD_SM2_2, &pub), SAR_NOTSUPPORTYETERR);
    CHECK_RV(SKF_GenECCKeyPair(hc, SGD_SM2_1, NULL), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_GenECCKeyPair(hc, SGD_SM2_1, &pub), SAR_OK);
    CHECK(pub.BitLen == 256);
    {
        static const uint8_t z32[32];
        CHECK(!memcmp(pub.XCoordinate, z32, 32) && !memcmp(pub.YCoordinate, z32, 32));
    }
    CHECK_RV(SKF_GetContainerType(hc, &type), SAR_OK);
    CHECK(type == 2);
    sz = 0;
    CHECK_RV(SKF_ExportPublicKey(hc, TRUE_, NULL, &sz), SAR_OK);
    CHECK(sz == sizeof(ECCPUBLICKEYBLOB));
    sz = 10;
    CHECK_RV(SKF_ExportPublicKey(hc, TRUE_, (BYTE *)&pub2, &sz), SAR_BUFFER_TOO_SMALL);
    sz = sizeof pub2;
    CHECK_RV(SKF_ExportPublicKey(hc, TRUE_, (BYTE *)&pub2, &sz), SAR_OK);
    CHECK(!memcmp(&pub, &pub2, sizeof pub));
    CHECK_RV(SKF_ExportPublicKey(hc, FALSE_, (BYTE *)&pub2, &sz), SAR_KEYNOTFOUNTERR);
    *signpub = pub;

    /* certificates */
    {
        uint8_t cert[700], out[800];
        size_t i;
        for (i = 0; i < sizeof cert; i++) cert[i] = (uint8_t)(i * 7);
        sz = sizeof out;
        CHECK_RV(SKF_ExportCertificate(hc, TRUE_, out, &sz), SAR_CERTNOTFOUNTERR);
        CHECK_RV(SKF_ImportCertificate(hc, TRUE_, cert, sizeof cert), SAR_OK);
        sz = 0;
        CHECK_RV(SKF_ExportCertificate(hc, TRUE_, NULL, &sz), SAR_OK);
        CHECK(sz == sizeof cert);
        sz = 100;
        CHECK_RV(SKF_ExportCertificate(hc, TRUE_, out, &sz), SAR_BUFFER_TOO_SMALL);
        CHECK(sz == sizeof cert);
        sz = sizeof out;
        CHECK_RV(SKF_ExportCertificate(hc, TRUE_, out, &sz), SAR_OK);
        CHECK(sz == sizeof cert && !memcmp(out, cert, sz));
        sz = sizeof out;
        CHECK_RV(SKF_ExportCertificate(hc, FALSE_, out, &sz), SAR_CERTNOTFOUNTERR);
        CHECK_RV(SKF_ImportCertificate(hc, FALSE_, cert, 300), SAR_OK);
        sz = sizeof out;
        CHECK_RV(SKF_ExportCertificate(hc, FALSE_, out, &sz), SAR_OK);
        CHECK(sz == 300);
    }

    /* ENVELOPEDKEYBLOB import of the encryption pair, built with OpenSSL */
    {
        uint8_t d[32], x[32], y[32], sx[32], sy[32], key[16], plain[64];
        uint8_t blobbuf[sizeof(ENVELOPEDKEYBLOB) + 32];
        ENVELOPEDKEYBLOB *env = (ENVELOPEDKEYBLOB *)blobbuf;
        HCONTAINER hcb = NULL;
        ECCPUBLICKEYBLOB gpub;

        gen_keypair(d, x, y);
        memcpy(sx, pub.XCoordinate + 32, 32);
        memcpy(sy, pub.YCoordinate + 32, 32);
        RAND_bytes(key, 16);
        memset(blobbuf, 0, sizeof blobbuf);
        env->Version = 1;
        env->ulSymmAlgID = SGD_SMS4_ECB;
        env->ulBits = 256;
        memset(plain, 0, 32);
        memcpy(plain + 32, d, 32);
        CHECK(sm4(EVP_sm4_ecb(), key, NULL, 0, 1, plain, 64, env->cbEncryptedPriKey) == 64);
        pub_blob(&env->PubKey, x, y);
        CHECK(ossl_encrypt(sx, sy, key, 16, &env->ECCCipherBlob));
        CHECK(env->ECCCipherBlob.CipherLen == 16);

        CHECK_RV(SKF_ImportECCKeyPair(hc, NULL), SAR_INVALIDPARAMERR);
        /* wrong public key -> rejected */
        {
            uint8_t d2[32], x2[32], y2[32];
            ECCPUBLICKEYBLOB keep = env->PubKey;
            gen_keypair(d2, x2, y2);
            pub_blob(&env->PubKey, x2, y2);
            CHECK_RV(SKF_ImportECCKeyPair(hc, env), SAR_KEYINFOTYPEERR);
            env->PubKey = keep;
        }
        /* variant A (GmSSL: all 64 bytes encrypted) */
        CHECK_RV(SKF_ImportECCKeyPair(hc, env), SAR_OK);
        sz = sizeof gpub;
        CHECK_RV(SKF_ExportPublicKey(hc, FALSE_, (BYTE *)&gpub, &sz), SAR_OK);
        CHECK(!memcmp(&gpub, &env->PubKey, sizeof gpub));

        /* variant B (only the 32 bytes at 32..63 encrypted) in a 2nd container */
        CHECK_RV(SKF_CreateContainer(ha, "second", &hcb), SAR_OK);
        CHECK_RV(SKF_ImportECCKeyPair(hcb, env), SAR_KEYNOTFOUNTERR); /* no signing key yet */
        CHECK_RV(SKF_GenECCKeyPair(hcb, SGD_SM2_1, &gpub), SAR_OK);
        memset(env->cbEncryptedPriKey, 0, 64);
        CHECK(sm4(EVP_sm4_ecb(), key, NULL, 0, 1, d, 32, env->cbEncryptedPriKey + 32) == 32);
        memcpy(sx, gpub.XCoordinate + 32, 32);
        memcpy(sy, gpub.YCoordinate + 32, 32);
        CHECK(ossl_encrypt(sx, sy, key, 16, &env->ECCCipherBlob));
        CHECK_RV(SKF_ImportECCKeyPair(hcb, env), SAR_OK);
        CHECK_RV(SKF_ClearSecureState(ha), SAR_OK);
        CHECK_RV(SKF_ImportECCKeyPair(hcb, env), SAR_USER_NOT_LOGGED_IN);
        CHECK_RV(SKF_DeleteContainer(ha, "second"), SAR_USER_NOT_LOGGED_IN);
        CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_OK);
        CHECK_RV(SKF_DeleteContainer(ha, "second"), SAR_OK);
        CHECK_RV(SKF_GetContainerType(hcb, &type), SAR_INVALIDHANDLEERR); /* handle died */
        CHECK_RV(SKF_OpenContainer(ha, "second", &hcb), SAR_FILE_NOT_EXIST);
        memcpy(encd, d, 32);
        memcpy(encx, x, 32);
        memcpy(ency, y, 32);
    }

    /* files */
    {
        uint8_t seal[3000], out[4000];
        FILEATTRIBUTE fa;
        size_t i;
        for (i = 0; i < sizeof seal; i++) seal[i] = (uint8_t)(i ^ 0x5A);
        CHECK_RV(SKF_ClearSecureState(ha), SAR_OK);
        CHECK_RV(SKF_CreateFile(ha, "seal.png", sizeof seal, SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT),
                 SAR_USER_NOT_LOGGED_IN); /* app created with USER create rights */
        CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_OK);
        CHECK_RV(SKF_CreateFile(ha, "seal.png", sizeof seal, SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT), SAR_OK);
        CHECK_RV(SKF_CreateFile(ha, "seal.png", 10, SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT),
                 SAR_FILE_ALREADY_EXIST);
        CHECK_RV(SKF_CreateFile(ha, "0123456789012345678901234567890123", 10, 0xFF, 0xFF), SAR_NAMELENERR);
        CHECK_RV(SKF_CreateFile(ha, "secret", 16, SECURE_USER_ACCOUNT, SECURE_ADM_ACCOUNT), SAR_OK);
        CHECK_RV(SKF_WriteFile(ha, "seal.png", 0, seal, sizeof seal), SAR_OK);
        CHECK_RV(SKF_WriteFile(ha, "seal.png", 10, seal, sizeof seal), SAR_INDATALENERR);
        CHECK_RV(SKF_WriteFile(ha, "secret", 0, seal, 16), SAR_USER_NOT_LOGGED_IN);
        CHECK_RV(SKF_WriteFile(ha, "nofile", 0, seal, 16), SAR_FILE_NOT_EXIST);
        CHECK_RV(SKF_GetFileInfo(ha, "seal.png", &fa), SAR_OK);
        CHECK(!strcmp(fa.FileName, "seal.png") && fa.FileSize == sizeof seal && fa.ReadRights == 0xFF &&
              fa.WriteRights == SECURE_USER_ACCOUNT);
        sz = sizeof out;
        CHECK_RV(SKF_EnumFiles(ha, (LPSTR)out, &sz), SAR_OK);
        CHECK(!strcmp((char *)out, "seal.png") && !strcmp((char *)out + 9, "secret") && sz == 9 + 7 + 1);
        CHECK_RV(SKF_ClearSecureState(ha), SAR_OK);
        sz = 0;
        CHECK_RV(SKF_ReadFile(ha, "seal.png", 0, 0xFFFFFFFF, NULL, &sz), SAR_OK);
        CHECK(sz == sizeof seal);
        sz = 100;
        CHECK_RV(SKF_ReadFile(ha, "seal.png", 0, sizeof seal, out, &sz), SAR_BUFFER_TOO_SMALL);
        CHECK(sz == sizeof seal);
        sz = sizeof out;
        CHECK_RV(SKF_ReadFile(ha, "seal.png", 0, sizeof out, out, &sz), SAR_OK);
        CHECK(sz == sizeof seal && !memcmp(out, seal, sizeof seal));
        sz = sizeof out;
        CHECK_RV(SKF_ReadFile(ha, "seal.png", 2990, 100, out, &sz), SAR_OK);
        CHECK(sz == 10 && !memcmp(out, seal + 2990, 10));
        sz = sizeof out;
        CHECK_RV(SKF_ReadFile(ha, "seal.png", 5000, 100, out, &sz), SAR_INDATALENERR);
        sz = sizeof out;
        CHECK_RV(SKF_ReadFile(ha, "secret", 0, 16, out, &sz), SAR_USER_NOT_LOGGED_IN);
        CHECK_RV(SKF_DeleteFile(ha, "secret"), SAR_USER_NOT_LOGGED_IN);
        CHECK_RV(SKF_VerifyPIN(ha, ADMIN_TYPE, (LPSTR)ADMIN_PIN, &retry), SAR_OK);
        CHECK_RV(SKF_WriteFile(ha, "secret", 0, seal, 16), SAR_OK);
        CHECK_RV(SKF_DeleteFile(ha, "secret"), SAR_OK);
        CHECK_RV(SKF_GetFileInfo(ha, "secret", &fa), SAR_FILE_NOT_EXIST);
        CHECK_RV(SKF_GetDevInfo(h, &info), SAR_OK);
        CHECK(info.FreeSpace < info.TotalSpace - sizeof seal);
    }
    CHECK_RV(SKF_CloseContainer(hc), SAR_OK);
    CHECK_RV(SKF_CloseContainer(hc), SAR_INVALIDHANDLEERR);
    CHECK_RV(SKF_CloseApplication(ha), SAR_OK);
    CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
}

static void test_sign_verify(const ECCPUBLICKEYBLOB *signpub)
{
    DEVHANDLE h;
    HAPPLICATION ha;
    HCONTAINER hc;
    HANDLE hh = NULL;
    uint8_t e[32], e2[32];
    ULONG sz;
    ECCSIGNATUREBLOB sig;
    const char *msg = "tender document digest input";
    ECCPUBLICKEYBLOB pub = *signpub;

    SECTION("SM3 / Z / ECCSignData / ECCVerify");
    CHECK(open_all(&h, &ha, &hc));

    /* SM3("abc") */
    {
        static const char *abc = "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0";
        uint8_t want[32];
        hexdec(abc, want, 32);
        CHECK_RV(SKF_DigestInit(h, SGD_SM3, NULL, NULL, 0, &hh), SAR_OK);
        sz = 0;
        CHECK_RV(SKF_Digest(hh, (BYTE *)"abc", 3, NULL, &sz), SAR_OK);
        CHECK(sz == 32);
        sz = 31;
        CHECK_RV(SKF_Digest(hh, (BYTE *)"abc", 3, e, &sz), SAR_BUFFER_TOO_SMALL);
        sz = 32;
        CHECK_RV(SKF_Digest(hh, (BYTE *)"abc", 3, e, &sz), SAR_OK);
        CHECK(!memcmp(e, want, 32));
        CHECK_RV(SKF_DigestUpdate(hh, (BYTE *)"abc", 3), SAR_HASHOBJERR);
        CHECK_RV(SKF_CloseHandle(hh), SAR_OK);
        CHECK_RV(SKF_CloseHandle(hh), SAR_INVALIDHANDLEERR);
        CHECK_RV(SKF_DigestInit(h, SGD_SHA256, NULL, NULL, 0, &hh), SAR_NOTSUPPORTYETERR);
    }
    /* GM/T 0003 style vector: Z and e with the default ID, r,s verify */
    {
        uint8_t px[32], py[32], ewant[32], r[32], s[32];
        ECCPUBLICKEYBLOB vp;
        ECCSIGNATUREBLOB vs;
        hexdec("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020", px, 32);
        hexdec("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13", py, 32);
        hexdec("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640", ewant, 32);
        hexdec("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3", r, 32);
        hexdec("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA", s, 32);
        pub_blob(&vp, px, py);
        CHECK_RV(SKF_DigestInit(h, SGD_SM3, &vp, (BYTE *)"1234567812345678", 16, &hh), SAR_OK);
        CHECK_RV(SKF_DigestUpdate(hh, (BYTE *)"message ", 8), SAR_OK);
        CHECK_RV(SKF_DigestUpdate(hh, (BYTE *)"digest", 6), SAR_OK);
        sz = 32;
        CHECK_RV(SKF_DigestFinal(hh, e, &sz), SAR_OK);
        CHECK(!memcmp(e, ewant, 32));
        CHECK_RV(SKF_CloseHandle(hh), SAR_OK);
        memset(&vs, 0, sizeof vs);
        memcpy(vs.r + 32, r, 32);
        memcpy(vs.s + 32, s, 32);
        CHECK_RV(SKF_ECCVerify(h, &vp, ewant, 32, &vs), SAR_OK);
        CHECK_RV(SKF_ExtECCVerify(h, &vp, ewant, 32, &vs), SAR_OK);
        vs.s[63] ^= 1;
        CHECK_RV(SKF_ECCVerify(h, &vp, ewant, 32, &vs), SAR_FAIL);
        /* ExtECCSign with the vector's private key */
        {
            ECCPRIVATEKEYBLOB pk;
            memset(&pk, 0, sizeof pk);
            pk.BitLen = 256;
            hexdec("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8", pk.PrivateKey + 32, 32);
            CHECK_RV(SKF_ExtECCSign(h, &pk, ewant, 32, &vs), SAR_OK);
            CHECK_RV(SKF_ECCVerify(h, &vp, ewant, 32, &vs), SAR_OK);
            OPENSSL_cleanse(&pk, sizeof pk);
        }
    }

    /* e = SM3(Z || M) computed by the key, signed by the key, verified by
     * OpenSSL as an SM2 signature over M with distid 1234567812345678: proves
     * that ECCSignData signs e directly (no second Z). */
    CHECK_RV(SKF_DigestInit(h, SGD_SM3, &pub, (BYTE *)"1234567812345678", 16, &hh), SAR_OK);
    sz = 32;
    CHECK_RV(SKF_Digest(hh, (BYTE *)msg, (ULONG)strlen(msg), e, &sz), SAR_OK);
    CHECK_RV(SKF_CloseHandle(hh), SAR_OK);
    CHECK_RV(SKF_ECCSignData(hc, e, 31, &sig), SAR_INDATALENERR);
    CHECK_RV(SKF_ECCSignData(hc, NULL, 32, &sig), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_ECCSignData(h, e, 32, &sig), SAR_INVALIDHANDLEERR);
    CHECK_RV(SKF_ECCSignData(hc, e, 32, &sig), SAR_OK);
    {
        static const uint8_t z32[32];
        uint8_t x[32], y[32], der[80];
        size_t dl = sig_to_der(&sig, der);
        EVP_PKEY *pk;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        CHECK(!memcmp(sig.r, z32, 32) && !memcmp(sig.s, z32, 32));
        memcpy(x, pub.XCoordinate + 32, 32);
        memcpy(y, pub.YCoordinate + 32, 32);
        pk = pkey_from(NULL, x, y);
        pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        EVP_PKEY_CTX_set1_id(pctx, "1234567812345678", 16);
        EVP_MD_CTX_set_pkey_ctx(md, pctx);
        CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, pk) == 1);
        CHECK(EVP_DigestVerify(md, der, dl, (const uint8_t *)msg, strlen(msg)) == 1);
        EVP_MD_CTX_free(md);
        EVP_PKEY_CTX_free(pctx);
        /* and raw EVP_PKEY_verify on e */
        pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        CHECK(EVP_PKEY_verify_init(pctx) == 1);
        CHECK(EVP_PKEY_verify(pctx, der, dl, e, 32) == 1);
        EVP_PKEY_CTX_free(pctx);
        EVP_PKEY_free(pk);
    }
    CHECK_RV(SKF_ECCVerify(h, &pub, e, 32, &sig), SAR_OK);
    memcpy(e2, e, 32);
    e2[0] ^= 0x80;
    CHECK_RV(SKF_ECCVerify(h, &pub, e2, 32, &sig), SAR_FAIL);
    CHECK_RV(SKF_ECCVerify(hc, &pub, e, 32, &sig), SAR_INVALIDHANDLEERR);
    /* not logged in -> refused */
    CHECK_RV(SKF_ClearSecureState(ha), SAR_OK);
    CHECK_RV(SKF_ECCSignData(hc, e, 32, &sig), SAR_USER_NOT_LOGGED_IN);
    CHECK_RV(SKF_ECCVerify(h, &pub, e, 32, &sig), SAR_OK); /* no login needed */

    CHECK_RV(SKF_DisConnectDev(h), SAR_OK); /* frees app and container too */
    CHECK_RV(SKF_CloseContainer(hc), SAR_INVALIDHANDLEERR);
    CHECK_RV(SKF_CloseApplication(ha), SAR_INVALIDHANDLEERR);
}

static void test_envelope(const uint8_t encd[32], const uint8_t encx[32], const uint8_t ency[32])
{
    DEVHANDLE h;
    HAPPLICATION ha;
    HCONTAINER hc;
    HANDLE hk = NULL, hk2 = NULL;
    uint8_t key[16], iv[16], cblob[164 + 64], cblob2[164 + 64];
    ECCCIPHERBLOB *cb = (ECCCIPHERBLOB *)cblob, *cb2 = (ECCCIPHERBLOB *)cblob2;
    ECCPUBLICKEYBLOB encpub;
    BLOCKCIPHERPARAM bp;
    static uint8_t plain[10000], ct[10016], out[10016];
    ULONG sz, total;
    int ctlen;
    size_t i;

    SECTION("SM2 encryption, session keys, SM4 streaming");
    CHECK(open_all(&h, &ha, &hc));
    pub_blob(&encpub, encx, ency);

    /* ExtECCEncrypt -> OpenSSL decrypt; OpenSSL encrypt -> ExtECCDecrypt */
    {
        uint8_t msg[100], dec[200];
        size_t dl = sizeof dec;
        ECCPRIVATEKEYBLOB pk;
        uint8_t big[164 + 100];
        ECCCIPHERBLOB *b = (ECCCIPHERBLOB *)big;
        RAND_bytes(msg, sizeof msg);
        CHECK_RV(SKF_ExtECCEncrypt(h, &encpub, msg, sizeof msg, b), SAR_OK);
        CHECK(b->CipherLen == sizeof msg);
        CHECK(ossl_decrypt(encd, encx, ency, b, dec, &dl) && dl == sizeof msg && !memcmp(dec, msg, dl));
        memset(big, 0, sizeof big);
        CHECK(ossl_encrypt(encx, ency, msg, sizeof msg, b));
        memset(&pk, 0, sizeof pk);
        pk.BitLen = 256;
        memcpy(pk.PrivateKey + 32, encd, 32);
        sz = 0;
        CHECK_RV(SKF_ExtECCDecrypt(h, &pk, b, NULL, &sz), SAR_OK);
        CHECK(sz == sizeof msg);
        sz = 10;
        CHECK_RV(SKF_ExtECCDecrypt(h, &pk, b, dec, &sz), SAR_BUFFER_TOO_SMALL);
        sz = sizeof dec;
        CHECK_RV(SKF_ExtECCDecrypt(h, &pk, b, dec, &sz), SAR_OK);
        CHECK(sz == sizeof msg && !memcmp(dec, msg, sz));
        b->Cipher[0] ^= 1;
        sz = sizeof dec;
        CHECK_RV(SKF_ExtECCDecrypt(h, &pk, b, dec, &sz), SAR_INDATAERR);
        OPENSSL_cleanse(&pk, sizeof pk);
    }

    /* bid file: SM4-CBC/PKCS#5 by OpenSSL, key wrapped to the enc cert key */
    RAND_bytes(key, 16);
    RAND_bytes(iv, 16);
    for (i = 0; i < sizeof plain; i++) plain[i] = (uint8_t)(i * 31 + 7);
    ctlen = sm4(EVP_sm4_cbc(), key, iv, 1, 1, plain, sizeof plain, ct);
    CHECK(ctlen == 10000 + 16);
    CHECK_RV(SKF_ExtECCEncrypt(h, &encpub, key, 16, cb), SAR_OK);
    CHECK_RV(SKF_ImportSessionKey(hc, SGD_SMS4_CBC, cblob, 100, &hk), SAR_INDATALENERR);
    CHECK_RV(SKF_ImportSessionKey(hc, SGD_SM1_CBC, cblob, 180, &hk), SAR_NOTSUPPORTYETERR);
    CHECK_RV(SKF_ImportSessionKey(hc, SGD_SMS4_CBC, cblob, 180, &hk), SAR_OK);

    memset(&bp, 0, sizeof bp);
    memcpy(bp.IV, iv, 16);
    bp.IVLen = 16;
    bp.PaddingType = 1;
    CHECK_RV(SKF_DecryptUpdate(hk, ct, 16, out, &sz), SAR_NOTINITIALIZEERR);
    CHECK_RV(SKF_DecryptInit(hk, bp), SAR_OK);
    total = 0;
    /* chunks of 1000 bytes (not block aligned) */
    for (i = 0; i < (size_t)ctlen; i += 1000) {
        ULONG n = (ULONG)((size_t)ctlen - i < 1000 ? (size_t)ctlen - i : 1000);
        ULONG need = 0;
        CHECK_RV(SKF_DecryptUpdate(hk, ct + i, n, NULL, &need), SAR_OK);
        if (need > 0) {
            sz = need - 1;
            CHECK_RV(SKF_DecryptUpdate(hk, ct + i, n, out + total, &sz), SAR_BUFFER_TOO_SMALL);
            CHECK(sz == need);
        }
        sz = sizeof out - total;
        CHECK_RV(SKF_DecryptUpdate(hk, ct + i, n, out + total, &sz), SAR_OK);
        CHECK(sz == need);
        total += sz;
    }
    sz = 0;
    CHECK_RV(SKF_DecryptFinal(hk, NULL, &sz), SAR_OK);
    CHECK(sz == (ULONG)(sizeof plain - total));
    sz = sizeof out - total;
    CHECK_RV(SKF_DecryptFinal(hk, out + total, &sz), SAR_OK);
    total += sz;
    CHECK(total == sizeof plain && !memcmp(out, plain, sizeof plain));
    CHECK_RV(SKF_DecryptFinal(hk, out, &sz), SAR_NOTINITIALIZEERR);
    CHECK_RV(SKF_DecryptUpdate(hk, ct, 5000, out, &sz), SAR_NOTINITIALIZEERR);

    /* one-shot too big for MaxBufferSize */
    CHECK_RV(SKF_DecryptInit(hk, bp), SAR_OK);
    sz = sizeof out;
    CHECK_RV(SKF_Decrypt(hk, ct, (ULONG)ctlen, out, &sz), SAR_INDATALENERR);
    /* one-shot, small */
    {
        uint8_t c2[64], p2[64];
        int cl = sm4(EVP_sm4_cbc(), key, iv, 1, 1, plain, 40, c2);
        CHECK_RV(SKF_DecryptInit(hk, bp), SAR_OK);
        sz = 0;
        CHECK_RV(SKF_Decrypt(hk, c2, (ULONG)cl, NULL, &sz), SAR_OK);
        CHECK(sz == 40);
        sz = sizeof p2;
        CHECK_RV(SKF_Decrypt(hk, c2, (ULONG)cl, p2, &sz), SAR_OK);
        CHECK(sz == 40 && !memcmp(p2, plain, 40));
        /* bad padding */
        {
            uint8_t blk[32], cbad[32];
            memcpy(blk, plain, 32);
            blk[31] = 0; /* invalid PKCS#5 byte */
            CHECK(sm4(EVP_sm4_cbc(), key, iv, 0, 1, blk, 32, cbad) == 32);
            CHECK_RV(SKF_DecryptInit(hk, bp), SAR_OK);
            sz = sizeof p2;
            CHECK_RV(SKF_Decrypt(hk, cbad, 32, p2, &sz), SAR_DECRYPTPADERR);
            blk[31] = 17;
            CHECK(sm4(EVP_sm4_cbc(), key, iv, 0, 1, blk, 32, cbad) == 32);
            CHECK_RV(SKF_DecryptInit(hk, bp), SAR_OK);
            sz = sizeof p2;
            CHECK_RV(SKF_DecryptUpdate(hk, cbad, 32, p2, &sz), SAR_OK);
            CHECK(sz == 16);
            sz = sizeof p2;
            CHECK_RV(SKF_DecryptFinal(hk, p2, &sz), SAR_DECRYPTPADERR);
        }
        /* not block aligned without padding */
        bp.PaddingType = 0;
        CHECK_RV(SKF_DecryptInit(hk, bp), SAR_OK);
        sz = sizeof p2;
        CHECK_RV(SKF_Decrypt(hk, c2, 20, p2, &sz), SAR_INDATALENERR);
        bp.PaddingType = 1;
        bp.IVLen = 8;
        CHECK_RV(SKF_DecryptInit(hk, bp), SAR_INVALIDPARAMERR);
        bp.IVLen = 16;
        bp.PaddingType = 2;
        CHECK_RV(SKF_DecryptInit(hk, bp), SAR_INVALIDPARAMERR);
        bp.PaddingType = 1;
    }

    /* encryption side: Encrypt/EncryptUpdate/EncryptFinal vs OpenSSL */
    {
        uint8_t c1[200], c2[200];
        ULONG t = 0;
        int ol = sm4(EVP_sm4_cbc(), key, iv, 1, 1, plain, 100, c1);
        CHECK_RV(SKF_EncryptInit(hk, bp), SAR_OK);
        sz = 0;
        CHECK_RV(SKF_Encrypt(hk, plain, 100, NULL, &sz), SAR_OK);
        CHECK(sz == 112);
        sz = 111;
        CHECK_RV(SKF_Encrypt(hk, plain, 100, c2, &sz), SAR_BUFFER_TOO_SMALL);
        CHECK(sz == 112);
        sz = sizeof c2;
        CHECK_RV(SKF_Encrypt(hk, plain, 100, c2, &sz), SAR_OK);
        CHECK((int)sz == ol && !memcmp(c1, c2, sz));
        CHECK_RV(SKF_EncryptInit(hk, bp), SAR_OK);
        sz = sizeof c2;
        CHECK_RV(SKF_EncryptUpdate(hk, plain, 7, c2, &sz), SAR_OK);
        CHECK(sz == 0);
        sz = sizeof c2;
        CHECK_RV(SKF_EncryptUpdate(hk, plain + 7, 60, c2, &sz), SAR_OK);
        CHECK(sz == 64);
        t = sz;
        sz = sizeof c2 - t;
        CHECK_RV(SKF_EncryptUpdate(hk, plain + 67, 33, c2 + t, &sz), SAR_OK);
        t += sz;
        sz = sizeof c2 - t;
        CHECK_RV(SKF_EncryptFinal(hk, c2 + t, &sz), SAR_OK);
        t += sz;
        CHECK((int)t == ol && !memcmp(c1, c2, t));
    }
    CHECK_RV(SKF_CloseHandle(hk), SAR_OK);

    /* ECB with SetSymmKey; MAC key misuse */
    {
        uint8_t k0[16], pt[16], ctw[16], o16[32];
        BLOCKCIPHERPARAM ep;
        hexdec("0123456789ABCDEFFEDCBA9876543210", k0, 16);
        memcpy(pt, k0, 16);
        hexdec("681EDF34D206965E86B3E94F536E4246", ctw, 16);
        memset(&ep, 0, sizeof ep);
        CHECK_RV(SKF_SetSymmKey(h, k0, SGD_SMS4_ECB, &hk2), SAR_OK);
        CHECK_RV(SKF_EncryptInit(hk2, ep), SAR_OK);
        sz = sizeof o16;
        CHECK_RV(SKF_Encrypt(hk2, pt, 16, o16, &sz), SAR_OK);
        CHECK(sz == 16 && !memcmp(o16, ctw, 16));
        CHECK_RV(SKF_CloseHandle(hk2), SAR_OK);
        CHECK_RV(SKF_SetSymmKey(h, k0, SGD_SM1_ECB, &hk2), SAR_NOTSUPPORTYETERR);
        CHECK_RV(SKF_SetSymmKey(h, k0, SGD_SMS4_MAC, &hk2), SAR_OK);
        CHECK_RV(SKF_EncryptInit(hk2, ep), SAR_KEYUSAGEERR);
        CHECK_RV(SKF_CloseHandle(hk2), SAR_OK);
    }

    /* ECCExportSessionKey -> ImportSessionKey gives the same key */
    {
        uint8_t p1[32], c1[48], p2[48];
        BLOCKCIPHERPARAM ep;
        memset(&ep, 0, sizeof ep);
        RAND_bytes(p1, sizeof p1);
        CHECK_RV(SKF_ECCExportSessionKey(hc, SGD_SMS4_ECB, &encpub, cb2, &hk), SAR_OK);
        CHECK(cb2->CipherLen == 16);
        CHECK_RV(SKF_EncryptInit(hk, ep), SAR_OK);
        sz = sizeof c1;
        CHECK_RV(SKF_Encrypt(hk, p1, 32, c1, &sz), SAR_OK);
        CHECK(sz == 32);
        CHECK_RV(SKF_ImportSessionKey(hc, SGD_SMS4_ECB, cblob2, 164 + 16, &hk2), SAR_OK);
        CHECK_RV(SKF_DecryptInit(hk2, ep), SAR_OK);
        sz = sizeof p2;
        CHECK_RV(SKF_Decrypt(hk2, c1, 32, p2, &sz), SAR_OK);
        CHECK(sz == 32 && !memcmp(p1, p2, 32));
        CHECK_RV(SKF_CloseHandle(hk), SAR_OK);
        CHECK_RV(SKF_CloseHandle(hk2), SAR_OK);
    }

    /* MAC: SM4 CBC-MAC == last block of SM4-CBC with IV */
    {
        uint8_t k0[16], data[64], cbc[64], mac[16];
        HANDLE hm = NULL;
        BLOCKCIPHERPARAM mp;
        RAND_bytes(k0, 16);
        RAND_bytes(data, 64);
        memset(&mp, 0, sizeof mp);
        RAND_bytes(mp.IV, 16);
        mp.IVLen = 16;
        CHECK(sm4(EVP_sm4_cbc(), k0, mp.IV, 0, 1, data, 64, cbc) == 64);
        CHECK_RV(SKF_SetSymmKey(h, k0, SGD_SMS4_MAC, &hk), SAR_OK);
        CHECK_RV(SKF_MacInit(hk, &mp, &hm), SAR_OK);
        sz = 0;
        CHECK_RV(SKF_Mac(hm, data, 64, NULL, &sz), SAR_OK);
        CHECK(sz == 16);
        sz = 16;
        CHECK_RV(SKF_Mac(hm, data, 64, mac, &sz), SAR_OK);
        CHECK(!memcmp(mac, cbc + 48, 16));
        CHECK_RV(SKF_CloseHandle(hm), SAR_OK);
        CHECK_RV(SKF_MacInit(hk, &mp, &hm), SAR_OK);
        CHECK_RV(SKF_MacUpdate(hm, data, 7), SAR_OK);
        CHECK_RV(SKF_MacUpdate(hm, data + 7, 57), SAR_OK);
        sz = 16;
        CHECK_RV(SKF_MacFinal(hm, mac, &sz), SAR_OK);
        CHECK(!memcmp(mac, cbc + 48, 16));
        CHECK_RV(SKF_CloseHandle(hm), SAR_OK);
        CHECK_RV(SKF_MacInit(hk, &mp, &hm), SAR_OK);
        sz = 16;
        CHECK_RV(SKF_Mac(hm, data, 20, mac, &sz), SAR_INDATALENERR);
        CHECK_RV(SKF_MacUpdate(hm, data, 20), SAR_OK);
        sz = 16;
        CHECK_RV(SKF_MacFinal(hm, mac, &sz), SAR_INDATALENERR);
        CHECK_RV(SKF_CloseHandle(hm), SAR_OK);
        CHECK_RV(SKF_MacInit(hk, NULL, &hm), SAR_INVALIDPARAMERR);
        CHECK_RV(SKF_CloseHandle(hk), SAR_OK);
    }

    /* session-key import needs the user PIN */
    CHECK_RV(SKF_ClearSecureState(ha), SAR_OK);
    CHECK_RV(SKF_ImportSessionKey(hc, SGD_SMS4_CBC, cblob, 180, &hk), SAR_USER_NOT_LOGGED_IN);
    /* handles left open on purpose: DisConnectDev releases key handles */
    CHECK_RV(SKF_SetSymmKey(h, key, SGD_SMS4_ECB, &hk), SAR_OK);
    CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
    CHECK_RV(SKF_CloseHandle(hk), SAR_INVALIDHANDLEERR);
}

static void test_pins_persist(void)
{
    DEVHANDLE h;
    HAPPLICATION ha, ha2;
    ULONG retry = 0, max = 0, remain = 0;
    BOOL def = 0;
    int i;

    SECTION("PIN retry / lock / unblock / change, persisted across reload");
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
    CHECK_RV(SKF_OpenApplication(h, (LPSTR)APP, &ha), SAR_OK);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, "999999", &retry), SAR_PIN_INCORRECT);
    CHECK(retry == 4);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, "12", &retry), SAR_PIN_LEN_RANGE);
    CHECK_RV(SKF_VerifyPIN(ha, 5, (LPSTR)USER_PIN, &retry), SAR_USER_TYPE_INVALID);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, NULL, &retry), SAR_INVALIDPARAMERR);
    CHECK_RV(SKF_VerifyPIN(h, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_INVALIDHANDLEERR);

    /* full reload of the library: state must come from disk */
    unload_lib();
    if (load_lib() != 0) {
        g_fail++;
        return;
    }
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
    CHECK_RV(SKF_OpenApplication(h, (LPSTR)APP, &ha), SAR_OK);
    CHECK_RV(SKF_GetPINInfo(ha, USER_TYPE, &max, &remain, &def), SAR_OK);
    CHECK(max == 5 && remain == 4 && def == 1);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_OK); /* resets counter */
    CHECK_RV(SKF_GetPINInfo(ha, USER_TYPE, &max, &remain, &def), SAR_OK);
    CHECK(remain == 5);
    for (i = 4; i >= 1; i--) {
        CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, "000000", &retry), SAR_PIN_INCORRECT);
        CHECK(retry == (ULONG)i);
    }
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, "000000", &retry), SAR_PIN_LOCKED);
    CHECK(retry == 0);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_PIN_LOCKED);
    CHECK_RV(SKF_DisConnectDev(h), SAR_OK);

    unload_lib();
    if (load_lib() != 0) {
        g_fail++;
        return;
    }
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
    CHECK_RV(SKF_OpenApplication(h, (LPSTR)APP, &ha), SAR_OK);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_PIN_LOCKED); /* lock survived */
    CHECK_RV(SKF_UnblockPIN(ha, "wrongadmin", "654321", &retry), SAR_PIN_INCORRECT);
    CHECK(retry == 9);
    CHECK_RV(SKF_UnblockPIN(ha, (LPSTR)ADMIN_PIN, "65", &retry), SAR_PIN_LEN_RANGE);
    CHECK_RV(SKF_UnblockPIN(ha, (LPSTR)ADMIN_PIN, "654321", &retry), SAR_OK);
    CHECK_RV(SKF_GetPINInfo(ha, ADMIN_TYPE, &max, &remain, &def), SAR_OK);
    CHECK(max == 10 && remain == 10);
    CHECK_RV(SKF_GetPINInfo(ha, USER_TYPE, &max, &remain, &def), SAR_OK);
    CHECK(remain == 5 && def == 0);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_PIN_INCORRECT);
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, "654321", &retry), SAR_OK);
    CHECK_RV(SKF_ChangePIN(ha, USER_TYPE, "654321", "1", &retry), SAR_PIN_LEN_RANGE);
    CHECK_RV(SKF_ChangePIN(ha, USER_TYPE, "000000", (LPSTR)USER_PIN, &retry), SAR_PIN_INCORRECT);
    CHECK(retry == 4);
    CHECK_RV(SKF_ChangePIN(ha, USER_TYPE, "654321", (LPSTR)USER_PIN, &retry), SAR_OK);
    CHECK_RV(SKF_GetPINInfo(ha, USER_TYPE, &max, &remain, &def), SAR_OK);
    CHECK(remain == 5 && def == 0);
    CHECK_RV(SKF_ChangePIN(ha, ADMIN_TYPE, (LPSTR)ADMIN_PIN, "newadmin99", &retry), SAR_OK);
    CHECK_RV(SKF_ChangePIN(ha, ADMIN_TYPE, "newadmin99", (LPSTR)ADMIN_PIN, &retry), SAR_OK);
    /* login state belongs to the handle */
    CHECK_RV(SKF_VerifyPIN(ha, USER_TYPE, (LPSTR)USER_PIN, &retry), SAR_OK);
    CHECK_RV(SKF_OpenApplication(h, (LPSTR)APP, &ha2), SAR_OK);
    {
        HCONTAINER hc = NULL;
        ECCSIGNATUREBLOB sig;
        uint8_t e[32] = {1};
        CHECK_RV(SKF_OpenContainer(ha2, (LPSTR)CON, &hc), SAR_OK);
        CHECK_RV(SKF_ECCSignData(hc, e, 32, &sig), SAR_USER_NOT_LOGGED_IN);
        CHECK_RV(SKF_CloseApplication(ha2), SAR_OK);
        CHECK_RV(SKF_ECCSignData(hc, e, 32, &sig), SAR_INVALIDHANDLEERR);
    }
    CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
}

/* ------------------------------------------------------------- hot-plug */
struct waiter {
    ULONG rv, ev, len;
    char name[128];
    ULONG bufsize;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->len = w->bufsize;
    w->rv = SKF_WaitForDevEvent(w->name, &w->len, &w->ev);
    return NULL;
}

static void test_hotplug(void)
{
    pthread_t t;
    struct waiter w;
    DEVHANDLE h = NULL, h2 = NULL;
    DEVINFO info;
    ULONG len, ev;
    char small[4];

    SECTION("hot-plug events, removal, cancel");
    /* first call snapshots; plugging SoftKey-C is an insertion */
    memset(&w, 0, sizeof w);
    w.bufsize = sizeof w.name;
    pthread_create(&t, NULL, wait_thread, &w);
    usleep(300 * 1000);
    plug("SoftKey-C");
    pthread_join(t, NULL);
    CHECK_RV(w.rv, SAR_OK);
    CHECK(w.ev == DEV_EVENT_INSERTED && !strcmp(w.name, "SoftKey-C") && w.len == strlen("SoftKey-C") + 1);

    /* too-small buffer keeps the event pending */
    unplug("SoftKey-C");
    len = sizeof small;
    CHECK_RV(SKF_WaitForDevEvent(small, &len, &ev), SAR_BUFFER_TOO_SMALL);
    CHECK(len == strlen("SoftKey-C") + 1);
    memset(&w, 0, sizeof w);
    w.bufsize = sizeof w.name;
    wait_thread(&w);
    CHECK_RV(w.rv, SAR_OK);
    CHECK(w.ev == DEV_EVENT_REMOVED && !strcmp(w.name, "SoftKey-C"));

    /* cancel wakes a waiter: SAR_OK with event 0 */
    memset(&w, 0, sizeof w);
    w.bufsize = sizeof w.name;
    pthread_create(&t, NULL, wait_thread, &w);
    usleep(300 * 1000);
    CHECK_RV(SKF_CancelWaitForDevEvent(), SAR_OK);
    pthread_join(t, NULL);
    CHECK_RV(w.rv, SAR_OK);
    CHECK(w.ev == 0 && w.len == 0);
    /* a cancel with nobody waiting is remembered for the next call */
    CHECK_RV(SKF_CancelWaitForDevEvent(), SAR_OK);
    len = sizeof w.name;
    CHECK_RV(SKF_WaitForDevEvent(w.name, &len, &ev), SAR_OK);
    CHECK(ev == 0);
    CHECK_RV(SKF_WaitForDevEvent(NULL, NULL, &ev), SAR_INVALIDPARAMERR);

    /* surprise removal of a connected key */
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
    CHECK_RV(SKF_GetDevInfo(h, &info), SAR_OK);
    unplug(DEV);
    CHECK_RV(SKF_GetDevInfo(h, &info), SAR_DEVICE_REMOVED);
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h2), SAR_DEVICE_REMOVED);
    plug(DEV);
    CHECK_RV(SKF_GetDevInfo(h, &info), SAR_DEVICE_REMOVED); /* stale handle stays dead */
    CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h2), SAR_OK);
    CHECK_RV(SKF_GetDevInfo(h2, &info), SAR_OK);
    CHECK_RV(SKF_DisConnectDev(h2), SAR_OK);
}

/* ------------------------------------------------------------- threads */
struct worker {
    int ok, n;
};

static void *sign_worker(void *arg)
{
    struct worker *w = arg;
    DEVHANDLE h;
    HAPPLICATION ha;
    HCONTAINER hc;
    ECCPUBLICKEYBLOB pub;
    ULONG sz = sizeof pub;
    int i;
    w->ok = 0;
    if (!open_all(&h, &ha, &hc)) return NULL;
    if (SKF_ExportPublicKey(hc, TRUE_, (BYTE *)&pub, &sz) != SAR_OK) return NULL;
    for (i = 0; i < w->n; i++) {
        uint8_t e[32], rnd[8];
        ECCSIGNATUREBLOB sig;
        if (SKF_GenRandom(h, e, 32) != SAR_OK || SKF_GenRandom(h, rnd, 8) != SAR_OK) return NULL;
        if (SKF_ECCSignData(hc, e, 32, &sig) != SAR_OK) return NULL;
        if (SKF_ECCVerify(h, &pub, e, 32, &sig) != SAR_OK) return NULL;
    }
    w->ok = SKF_DisConnectDev(h) == SAR_OK;
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[4], tw;
    struct worker w[4];
    struct waiter wt;
    int i;
    SECTION("threads: concurrent sessions while a hot-plug waiter runs");
    memset(&wt, 0, sizeof wt);
    wt.bufsize = sizeof wt.name;
    pthread_create(&tw, NULL, wait_thread, &wt);
    for (i = 0; i < 4; i++) {
        w[i].n = 15;
        pthread_create(&t[i], NULL, sign_worker, &w[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok);
    }
    CHECK_RV(SKF_CancelWaitForDevEvent(), SAR_OK);
    pthread_join(tw, NULL);
    CHECK_RV(wt.rv, SAR_OK);
}

static void test_fault_reload(void)
{
    DEVHANDLE h;
    SECTION("fault injection: variable re-read when it changes");
    CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
    setenv("SOFTSKF_FAULTS", "SKF_UnlockDev:2:0x0A00000F", 1);
    CHECK_RV(SKF_UnlockDev(h), SAR_OK);
    CHECK_RV(SKF_UnlockDev(h), SAR_TIMEOUTERR);
    CHECK_RV(SKF_UnlockDev(h), SAR_OK);
    unsetenv("SOFTSKF_FAULTS");
    CHECK_RV(SKF_UnlockDev(h), SAR_OK);
    CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
}

/* ---------------------------------------------------- child scenarios */
static int child_main(const char *mode)
{
    DEVHANDLE h;
    HAPPLICATION ha;
    HCONTAINER hc;
    ECCSIGNATUREBLOB sig;
    DEVINFO info;
    uint8_t e[32] = {7}, buf[64];
    ULONG sz;

    if (!strcmp(mode, "fault-code")) {
        setenv("SOFTSKF_FAULTS", "SKF_ECCSignData:2:0x0A000001,SKF_GetDevInfo:1:0x0A000014", 1);
        if (load_lib()) return 2;
        CHECK(open_all(&h, &ha, &hc));
        CHECK_RV(SKF_GetDevInfo(h, &info), SAR_HASHERR);
        CHECK_RV(SKF_GetDevInfo(h, &info), SAR_OK);
        CHECK_RV(SKF_ECCSignData(hc, e, 32, &sig), SAR_OK);
        CHECK_RV(SKF_ECCSignData(hc, e, 32, &sig), SAR_FAIL);
        CHECK_RV(SKF_ECCSignData(hc, e, 32, &sig), SAR_OK);
        CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
    } else if (!strcmp(mode, "fault-remove")) {
        HANDLE hk;
        BLOCKCIPHERPARAM bp;
        setenv("SOFTSKF_FAULTS", "SKF_DecryptUpdate:2:remove", 1);
        if (load_lib()) return 2;
        memset(&bp, 0, sizeof bp);
        CHECK_RV(SKF_ConnectDev((LPSTR)DEV, &h), SAR_OK);
        CHECK_RV(SKF_SetSymmKey(h, e, SGD_SMS4_ECB, &hk), SAR_OK);
        CHECK_RV(SKF_DecryptInit(hk, bp), SAR_OK);
        sz = sizeof buf;
        CHECK_RV(SKF_DecryptUpdate(hk, buf, 16, buf + 16, &sz), SAR_OK);
        sz = sizeof buf;
        CHECK_RV(SKF_DecryptUpdate(hk, buf, 16, buf + 16, &sz), SAR_DEVICE_REMOVED);
        CHECK(!is_plugged(DEV));
        CHECK_RV(SKF_GetDevInfo(h, &info), SAR_DEVICE_REMOVED);
        CHECK_RV(SKF_CloseHandle(hk), SAR_OK);
        CHECK_RV(SKF_DisConnectDev(h), SAR_OK);
    } else if (!strcmp(mode, "fault-crash")) {
        setenv("SOFTSKF_FAULTS", "SKF_ImportSessionKey:1:crash", 1);
        if (load_lib()) return 2;
        CHECK(open_all(&h, &ha, &hc));
        {
            HANDLE hk;
            uint8_t blob[200];
            memset(blob, 0, sizeof blob);
            SKF_ImportSessionKey(hc, SGD_SMS4_CBC, blob, sizeof blob, &hk);
        }
        return 3; /* not reached */
    } else if (!strcmp(mode, "fault-hang")) {
        setenv("SOFTSKF_FAULTS", "SKF_VerifyPIN:1:hang", 1);
        if (load_lib()) return 2;
        CHECK(!open_all(&h, &ha, &hc));
        return 3; /* not reached */
    } else {
        return 2;
    }
    unload_lib();
    fprintf(stderr, "child %s: %d passed, %d failed\n", mode, g_pass, g_fail);
    return g_fail ? 1 : 0;
}

static pid_t spawn_child(const char *mode)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"test_softskf", (char *)g_libpath, "--child", (char *)mode, NULL};
        execv(g_self, argv);
        _exit(127);
    }
    return pid;
}

static void test_faults_children(void)
{
    pid_t pid;
    int status = 0;
    SECTION("fault injection in child processes: code, remove, crash, hang");
    pid = spawn_child("fault-code");
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    pid = spawn_child("fault-remove");
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(!is_plugged(DEV));
    plug(DEV);

    pid = spawn_child("fault-crash");
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);

    pid = spawn_child("fault-hang");
    sleep(1);
    CHECK(waitpid(pid, &status, WNOHANG) == 0); /* still blocked */
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* ------------------------------------------------------------------ main */
static int rm_rf(const char *p)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    return system(cmd);
}

int main(int argc, char **argv)
{
    ECCPUBLICKEYBLOB signpub;
    uint8_t encd[32], encx[32], ency[32];
    int keep = getenv("SOFTSKF_TEST_KEEP") != NULL;

    g_libpath = argc > 1 ? argv[1] : "build/libsoftskf.so";
    if (!realpath(argv[0], g_self)) snprintf(g_self, sizeof g_self, "%s", argv[0]);
    if (argc > 3 && !strcmp(argv[2], "--child")) {
        const char *s = getenv("SOFTSKF_STORE");
        snprintf(g_store, sizeof g_store, "%s", s ? s : "");
        return child_main(argv[3]);
    }
    snprintf(g_store, sizeof g_store, "%s/softskf-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_store)) {
        perror("mkdtemp");
        return 2;
    }
    setenv("SOFTSKF_STORE", g_store, 1);
    unsetenv("SOFTSKF_FAULTS");
    if (load_lib() != 0) return 2;

    test_enum_and_connect();
    test_provision(&signpub, encd, encx, ency);
    test_sign_verify(&signpub);
    test_envelope(encd, encx, ency);
    test_pins_persist();
    test_hotplug();
    test_threads();
    test_fault_reload();
    test_faults_children();

    unload_lib();
    if (!keep) rm_rf(g_store);
    else fprintf(stderr, "store kept: %s\n", g_store);
    OPENSSL_cleanse(encd, sizeof encd);
    fprintf(stderr, "%s: %d checks passed, %d failed\n", g_fail ? "FAILED" : "OK", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
