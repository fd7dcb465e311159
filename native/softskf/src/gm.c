/* gm.c - SM2/SM3/SM4 primitives on OpenSSL 3 libcrypto. */
#include "internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

void secure_zero(void *p, size_t n)
{
    if (p && n) OPENSSL_cleanse(p, n);
}

int rand_bytes(uint8_t *b, size_t n)
{
    if (n == 0) return 1;
    return RAND_bytes(b, (int)n) == 1;
}

/* ---- SM2 key objects ---- */

static EVP_PKEY *sm2_pkey(const uint8_t *d, const uint8_t x[32], const uint8_t y[32])
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = NULL;
    uint8_t pub[65];
    if (!bld) return NULL;
    pub[0] = 4;
    memcpy(pub + 1, x, 32);
    memcpy(pub + 33, y, 32);
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub))
        goto out;
    if (d) {
        bn = BN_secure_new();
        if (!bn || !BN_bin2bn(d, 32, bn) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    if (!params) goto out;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(bn);
    return pkey;
}

/* the key pair object of a private key (its public key computed) */
static EVP_PKEY *sm2_priv_pkey(const uint8_t d[32])
{
    uint8_t x[32], y[32];
    if (!sm2_pub_of(d, x, y)) return NULL;
    return sm2_pkey(d, x, y);
}

/* 1 if 0 < d < n-1 (SM2 requires d in [1, n-2]) */
int sm2_valid_priv(const uint8_t d[32])
{
    static const uint8_t nm1[32] = {
        0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x22};
    int i, nonzero = 0;
    for (i = 0; i < 32; i++) nonzero |= d[i];
    if (!nonzero) return 0;
    return memcmp(d, nm1, 32) < 0;
}

int sm2_pub_of(const uint8_t d[32], uint8_t x[32], uint8_t y[32])
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
    EC_POINT *p = NULL;
    BIGNUM *bd = NULL, *bx = NULL, *by = NULL;
    BN_CTX *bctx = BN_CTX_new();
    int ok = 0;
    if (!g || !bctx || !sm2_valid_priv(d)) goto out;
    p = EC_POINT_new(g);
    bd = BN_secure_new();
    bx = BN_new();
    by = BN_new();
    if (!p || !bd || !bx || !by || !BN_bin2bn(d, 32, bd)) goto out;
    if (!EC_POINT_mul(g, p, bd, NULL, NULL, bctx)) goto out;
    if (!EC_POINT_get_affine_coordinates(g, p, bx, by, bctx)) goto out;
    if (BN_bn2binpad(bx, x, 32) != 32 || BN_bn2binpad(by, y, 32) != 32) goto out;
    ok = 1;
out:
    EC_POINT_free(p);
    EC_GROUP_free(g);
    BN_clear_free(bd);
    BN_free(bx);
    BN_free(by);
    BN_CTX_free(bctx);
    return ok;
}

int sm2_gen(uint8_t d[32], uint8_t x[32], uint8_t y[32])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY *pkey = NULL;
    BIGNUM *bd = NULL;
    int ok = 0;
    if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_generate(ctx, &pkey) <= 0) goto out;
    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bd)) goto out;
    if (BN_bn2binpad(bd, d, 32) != 32) goto out;
    ok = sm2_pub_of(d, x, y);
out:
    BN_clear_free(bd);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* OpenSSL 3's SM2 signature provider signs the tbs bytes given to
 * EVP_PKEY_sign as the digest e itself (no Z, no hashing). */
int sm2_sign_e(const uint8_t d[32], const uint8_t e[32], uint8_t r[32], uint8_t s[32])
{
    uint8_t der[80];
    const uint8_t *pp = der;
    size_t derlen = sizeof der;
    EVP_PKEY *pkey = sm2_priv_pkey(d);
    EVP_PKEY_CTX *ctx = NULL;
    ECDSA_SIG *sig = NULL;
    int ok = 0;
    if (!pkey) goto out;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_sign(ctx, der, &derlen, e, 32) <= 0) goto out;
    sig = d2i_ECDSA_SIG(NULL, &pp, (long)derlen);
    if (!sig) goto out;
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig), r, 32) != 32 || BN_bn2binpad(ECDSA_SIG_get0_s(sig), s, 32) != 32)
        goto out;
    ok = 1;
out:
    ECDSA_SIG_free(sig);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

int sm2_verify_e(const uint8_t x[32], const uint8_t y[32], const uint8_t e[32], const uint8_t r[32],
                 const uint8_t s[32])
{
    EVP_PKEY *pkey = sm2_pkey(NULL, x, y);
    EVP_PKEY_CTX *ctx = NULL;
    ECDSA_SIG *sig = NULL;
    BIGNUM *br = NULL, *bs = NULL;
    unsigned char *der = NULL;
    int derlen, rc = -1;
    if (!pkey) return -1;
    sig = ECDSA_SIG_new();
    br = BN_bin2bn(r, 32, NULL);
    bs = BN_bin2bn(s, 32, NULL);
    if (!sig || !br || !bs) goto out;
    if (!ECDSA_SIG_set0(sig, br, bs)) goto out;
    br = bs = NULL;
    derlen = i2d_ECDSA_SIG(sig, &der);
    if (derlen <= 0) goto out;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx || EVP_PKEY_verify_init(ctx) <= 0) goto out;
    rc = EVP_PKEY_verify(ctx, der, (size_t)derlen, e, 32) == 1 ? 1 : 0;
out:
    OPENSSL_free(der);
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(sig);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
}

/* ---- minimal DER for SM2Cipher ::= SEQUENCE { INTEGER x, INTEGER y,
 *      OCTET STRING hash(32), OCTET STRING ciphertext } ---- */

static size_t der_len_bytes(size_t n)
{
    return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

static uint8_t *der_put_hdr(uint8_t *p, uint8_t tag, size_t n)
{
    size_t lb = der_len_bytes(n), i;
    *p++ = tag;
    if (lb == 1) {
        *p++ = (uint8_t)n;
    } else {
        *p++ = (uint8_t)(0x80 | (lb - 1));
        for (i = lb - 1; i > 0; i--) *p++ = (uint8_t)(n >> (8 * (i - 1)));
    }
    return p;
}

static size_t int_content_len(const uint8_t v[32], size_t *skip)
{
    size_t k = 0;
    while (k < 31 && v[k] == 0) k++;
    *skip = k;
    return 32 - k + ((v[k] & 0x80) ? 1 : 0);
}

/* INTEGER of lx content bytes for the 32-byte big-endian v (sx leading zeros skipped) */
static uint8_t *der_put_int32(uint8_t *p, const uint8_t v[32], size_t sx, size_t lx)
{
    p = der_put_hdr(p, 0x02, lx);
    if (v[sx] & 0x80) *p++ = 0;
    memcpy(p, v + sx, 32 - sx);
    return p + 32 - sx;
}

static uint8_t *der_sm2cipher(const uint8_t x[32], const uint8_t y[32], const uint8_t h[32],
                              const uint8_t *c2, size_t n, size_t *outlen)
{
    size_t sx, sy, lx = int_content_len(x, &sx), ly = int_content_len(y, &sy);
    size_t body = 1 + der_len_bytes(lx) + lx + 1 + der_len_bytes(ly) + ly + 2 + 32 + 1 + der_len_bytes(n) + n;
    size_t total = 1 + der_len_bytes(body) + body;
    uint8_t *buf = malloc(total), *p;
    if (!buf) return NULL;
    p = der_put_hdr(buf, 0x30, body);
    p = der_put_int32(p, x, sx, lx);
    p = der_put_int32(p, y, sy, ly);
    p = der_put_hdr(p, 0x04, 32);
    memcpy(p, h, 32);
    p += 32;
    p = der_put_hdr(p, 0x04, n);
    if (n) memcpy(p, c2, n);
    p += n;
    *outlen = (size_t)(p - buf);
    return buf;
}

/* read TLV with given tag; returns content pointer and length */
static const uint8_t *der_get(const uint8_t **pp, const uint8_t *end, uint8_t tag, size_t *len)
{
    const uint8_t *p = *pp;
    size_t n = 0;
    if (end - p < 2 || *p++ != tag) return NULL;
    if (*p < 0x80) {
        n = *p++;
    } else {
        int lb = *p++ & 0x7F, i;
        if (lb < 1 || lb > 4 || end - p < lb) return NULL;
        for (i = 0; i < lb; i++) n = (n << 8) | *p++;
    }
    if ((size_t)(end - p) < n) return NULL;
    *pp = p + n;
    *len = n;
    return p;
}

static int der_int_to32(const uint8_t *c, size_t n, uint8_t out[32])
{
    while (n > 0 && *c == 0) {
        c++;
        n--;
    }
    if (n > 32) return 0;
    memset(out, 0, 32);
    memcpy(out + 32 - n, c, n);
    return 1;
}

int sm2_encrypt(const uint8_t x[32], const uint8_t y[32], const uint8_t *in, size_t n, uint8_t c1x[32],
                uint8_t c1y[32], uint8_t c3[32], uint8_t *c2)
{
    EVP_PKEY *pkey = sm2_pkey(NULL, x, y);
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t *der = NULL;
    size_t derlen = 0, l;
    const uint8_t *p, *end, *seq, *c;
    int ok = 0;
    if (!pkey || n == 0) goto out;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx || EVP_PKEY_encrypt_init(ctx) <= 0 || EVP_PKEY_encrypt(ctx, NULL, &derlen, in, n) <= 0) goto out;
    der = malloc(derlen);
    if (!der || EVP_PKEY_encrypt(ctx, der, &derlen, in, n) <= 0) goto out;
    p = der;
    end = der + derlen;
    if (!(seq = der_get(&p, end, 0x30, &l))) goto out;
    p = seq;
    end = seq + l;
    if (!(c = der_get(&p, end, 0x02, &l)) || !der_int_to32(c, l, c1x)) goto out;
    if (!(c = der_get(&p, end, 0x02, &l)) || !der_int_to32(c, l, c1y)) goto out;
    if (!(c = der_get(&p, end, 0x04, &l)) || l != 32) goto out;
    memcpy(c3, c, 32);
    if (!(c = der_get(&p, end, 0x04, &l)) || l != n) goto out;
    memcpy(c2, c, n);
    ok = 1;
out:
    free(der);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

int sm2_decrypt(const uint8_t d[32], const uint8_t c1x[32], const uint8_t c1y[32], const uint8_t c3[32],
                const uint8_t *c2, size_t n, uint8_t *out)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t *der = NULL, *tmp = NULL;
    size_t derlen = 0, outlen = 0;
    int ok = 0;
    if (n == 0 || !(pkey = sm2_priv_pkey(d))) return 0;
    der = der_sm2cipher(c1x, c1y, c3, c2, n, &derlen);
    if (!pkey || !der) goto out;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 || EVP_PKEY_decrypt(ctx, NULL, &outlen, der, derlen) <= 0)
        goto out;
    tmp = malloc(outlen ? outlen : 1);
    if (!tmp || EVP_PKEY_decrypt(ctx, tmp, &outlen, der, derlen) <= 0 || outlen != n) goto out;
    memcpy(out, tmp, n);
    ok = 1;
out:
    if (tmp) {
        secure_zero(tmp, outlen);
        free(tmp);
    }
    free(der);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

/* Z = SM3(ENTL || ID || a || b || Gx || Gy || xA || yA) */
int sm3_z(const uint8_t x[32], const uint8_t y[32], const uint8_t *id, size_t idlen, uint8_t z[32])
{
    static const uint8_t abg[128] = {
        0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFC,
        0x28, 0xE9, 0xFA, 0x9E, 0x9D, 0x9F, 0x5E, 0x34, 0x4D, 0x5A, 0x9E, 0x4B, 0xCF, 0x65, 0x09, 0xA7,
        0xF3, 0x97, 0x89, 0xF5, 0x15, 0xAB, 0x8F, 0x92, 0xDD, 0xBC, 0xBD, 0x41, 0x4D, 0x94, 0x0E, 0x93,
        0x32, 0xC4, 0xAE, 0x2C, 0x1F, 0x19, 0x81, 0x19, 0x5F, 0x99, 0x04, 0x46, 0x6A, 0x39, 0xC9, 0x94,
        0x8F, 0xE3, 0x0B, 0xBF, 0xF2, 0x66, 0x0B, 0xE1, 0x71, 0x5A, 0x45, 0x89, 0x33, 0x4C, 0x74, 0xC7,
        0xBC, 0x37, 0x36, 0xA2, 0xF4, 0xF6, 0x77, 0x9C, 0x59, 0xBD, 0xCE, 0xE3, 0x6B, 0x69, 0x21, 0x53,
        0xD0, 0xA9, 0x87, 0x7C, 0xC6, 0x2A, 0x47, 0x40, 0x02, 0xDF, 0x32, 0xE5, 0x21, 0x39, 0xF0, 0xA0};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t entl[2];
    unsigned int zl = 32;
    int ok = 0;
    if (!md || idlen >= 8192) goto out;
    entl[0] = (uint8_t)((idlen * 8) >> 8);
    entl[1] = (uint8_t)(idlen * 8);
    if (EVP_DigestInit_ex(md, EVP_sm3(), NULL) != 1 || EVP_DigestUpdate(md, entl, 2) != 1 ||
        (idlen && EVP_DigestUpdate(md, id, idlen) != 1) || EVP_DigestUpdate(md, abg, sizeof abg) != 1 ||
        EVP_DigestUpdate(md, x, 32) != 1 || EVP_DigestUpdate(md, y, 32) != 1 ||
        EVP_DigestFinal_ex(md, z, &zl) != 1)
        goto out;
    ok = 1;
out:
    EVP_MD_CTX_free(md);
    return ok;
}

int sm4_ecb(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t n, int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0, ok = 0;
    if (!c || n % 16) goto out;
    if (EVP_CipherInit_ex(c, EVP_sm4_ecb(), NULL, key, NULL, enc) != 1) goto out;
    EVP_CIPHER_CTX_set_padding(c, 0);
    if (EVP_CipherUpdate(c, out, &l1, in, (int)n) != 1 || EVP_CipherFinal_ex(c, out + l1, &l2) != 1) goto out;
    ok = (size_t)(l1 + l2) == n;
out:
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* PIN verifier: PBKDF2-HMAC-SM3(pin, 16-byte salt, SSKF_PBKDF_ITER) */
int pin_hash(const char *pin, const uint8_t salt[16], uint8_t out[32])
{
    return PKCS5_PBKDF2_HMAC(pin, (int)strlen(pin), salt, 16, SSKF_PBKDF_ITER, EVP_sm3(), 32, out) == 1;
}

/* ---- blobs ---- */
ULONG pubblob_get(const ECCPUBLICKEYBLOB *b, uint8_t x[32], uint8_t y[32])
{
    static const uint8_t zero[32];
    if (!b) return SAR_INVALIDPARAMERR;
    if (b->BitLen != 256) return SAR_INVALIDPARAMERR;
    if (memcmp(b->XCoordinate, zero, 32) || memcmp(b->YCoordinate, zero, 32)) return SAR_INVALIDPARAMERR;
    memcpy(x, b->XCoordinate + 32, 32);
    memcpy(y, b->YCoordinate + 32, 32);
    return SAR_OK;
}

void pubblob_set(ECCPUBLICKEYBLOB *b, const uint8_t x[32], const uint8_t y[32])
{
    memset(b, 0, sizeof *b);
    b->BitLen = 256;
    memcpy(b->XCoordinate + 32, x, 32);
    memcpy(b->YCoordinate + 32, y, 32);
}
