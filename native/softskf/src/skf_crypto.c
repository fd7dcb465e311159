/* skf_crypto.c - ECC, session keys, SM4, SM3 digest, MAC, unsupported calls. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#define LOCK() sskf_lock()
#define UNLOCK() sskf_unlock()

static const uint8_t ZERO32[32];

/* ------------------------------------------------------------- helpers */
static ULONG cipher_blob_get(const ECCCIPHERBLOB *b, uint8_t x[32], uint8_t y[32], uint8_t h[32])
{
    if (memcmp(b->XCoordinate, ZERO32, 32) || memcmp(b->YCoordinate, ZERO32, 32)) return SAR_INDATAERR;
    memcpy(x, b->XCoordinate + 32, 32);
    memcpy(y, b->YCoordinate + 32, 32);
    memcpy(h, b->HASH, 32);
    return SAR_OK;
}

/* SM2-encrypt n bytes to (x,y) and fill an ECCCIPHERBLOB (caller allocated
 * 164 + n bytes). */
static ULONG ecc_encrypt_to_blob(const uint8_t x[32], const uint8_t y[32], const uint8_t *in, size_t n,
                                 ECCCIPHERBLOB *out)
{
    uint8_t c1x[32], c1y[32], c3[32];
    uint8_t *c2 = malloc(n);
    ULONG rv = SAR_OK;
    if (!c2) return SAR_MEMORYERR;
    if (!sm2_encrypt(x, y, in, n, c1x, c1y, c3, c2)) {
        rv = SAR_INVALIDPARAMERR; /* typically a public key not on the curve */
    } else {
        memset(out->XCoordinate, 0, 32);
        memcpy(out->XCoordinate + 32, c1x, 32);
        memset(out->YCoordinate, 0, 32);
        memcpy(out->YCoordinate + 32, c1y, 32);
        memcpy(out->HASH, c3, 32);
        out->CipherLen = (ULONG)n;
        memcpy(out->Cipher, c2, n);
    }
    free(c2);
    return rv;
}

static ULONG ecc_decrypt_blob(const uint8_t d[32], const ECCCIPHERBLOB *b, uint8_t *out)
{
    uint8_t x[32], y[32], h[32];
    ULONG rv = cipher_blob_get(b, x, y, h);
    if (rv != SAR_OK) return rv;
    if (b->CipherLen == 0) return SAR_INDATALENERR;
    return sm2_decrypt(d, x, y, h, b->Cipher, b->CipherLen, out) ? SAR_OK : SAR_INDATAERR;
}

static ULONG sig_get(const ECCSIGNATUREBLOB *s, uint8_t r[32], uint8_t ss[32])
{
    if (memcmp(s->r, ZERO32, 32) || memcmp(s->s, ZERO32, 32)) return SAR_INVALIDPARAMERR;
    memcpy(r, s->r + 32, 32);
    memcpy(ss, s->s + 32, 32);
    return SAR_OK;
}

static void sig_set(ECCSIGNATUREBLOB *s, const uint8_t r[32], const uint8_t ss[32])
{
    memset(s, 0, sizeof *s);
    memcpy(s->r + 32, r, 32);
    memcpy(s->s + 32, ss, 32);
}

static ULONG privblob_get(const ECCPRIVATEKEYBLOB *b, uint8_t d[32])
{
    if (!b || b->BitLen != 256 || memcmp(b->PrivateKey, ZERO32, 32)) return SAR_INVALIDPARAMERR;
    memcpy(d, b->PrivateKey + 32, 32);
    if (!sm2_valid_priv(d)) return SAR_INVALIDPARAMERR;
    return SAR_OK;
}

/* load a key pair of a container: which = "sign" or "enc" */
static ULONG con_keypair(scon_t *c, const char *which, uint8_t d[32], uint8_t xy[64])
{
    kv_t kv;
    char kd[16], kp[16];
    ULONG rv;
    snprintf(kd, sizeof kd, "%s_priv", which);
    snprintf(kp, sizeof kp, "%s_pub", which);
    if ((rv = con_load(c, &kv)) != SAR_OK) return rv;
    if ((d && kv_get_hex(&kv, kd, d, 32) != 32) || (xy && kv_get_hex(&kv, kp, xy, 64) != 64)) rv = SAR_KEYNOTFOUNTERR;
    kv_free(&kv);
    return rv;
}

static ULONG con_store_keypair(scon_t *c, const char *which, const uint8_t d[32], const uint8_t x[32],
                               const uint8_t y[32])
{
    kv_t kv;
    char kd[16], kp[16];
    uint8_t xy[64];
    ULONG rv;
    snprintf(kd, sizeof kd, "%s_priv", which);
    snprintf(kp, sizeof kp, "%s_pub", which);
    memcpy(xy, x, 32);
    memcpy(xy + 32, y, 32);
    if ((rv = con_load(c, &kv)) != SAR_OK) return rv;
    if (kv_set_hex(&kv, kd, d, 32) || kv_set_hex(&kv, kp, xy, 64) || kv_set_u32(&kv, "type", CONTAINER_TYPE_ECC))
        rv = SAR_MEMORYERR;
    else rv = con_save(c, &kv);
    kv_free(&kv);
    return rv;
}

static ULONG sym_alg_check(ULONG alg)
{
    return alg == SGD_SMS4_ECB || alg == SGD_SMS4_CBC || alg == SGD_SMS4_MAC ? SAR_OK : SAR_NOTSUPPORTYETERR;
}

/* a new session key handle in *ph */
static ULONG key_out(sdev_t *d, ULONG alg, const uint8_t key[16], HANDLE *ph)
{
    skey_t *k = h_new(K_KEY, sizeof(skey_t));
    if (!k) return SAR_MEMORYERR;
    k->dev = d;
    k->alg = alg;
    memcpy(k->key, key, 16);
    *ph = k;
    return SAR_OK;
}

/* SM2-sign the 32-byte e with d into *sig; wipes d */
static ULONG sign_to_blob(uint8_t d[32], const BYTE *e, ECCSIGNATUREBLOB *sig)
{
    uint8_t r[32], s[32];
    ULONG rv = SAR_OK;
    if (!sm2_sign_e(d, e, r, s)) rv = SAR_FAIL;
    else sig_set(sig, r, s);
    secure_zero(d, 32);
    return rv;
}

/* 1 if d is the private key of the public key (px, py) */
static int priv_matches(const uint8_t d[32], const uint8_t px[32], const uint8_t py[32])
{
    uint8_t qx[32], qy[32];
    return sm2_pub_of(d, qx, qy) && !memcmp(qx, px, 32) && !memcmp(qy, py, 32);
}

/* ----------------------------------------------------------------- ECC */
ULONG DEVAPI SKF_GenECCKeyPair(HCONTAINER hContainer, ULONG ulAlgId, ECCPUBLICKEYBLOB *pBlob)
{
    scon_t *c;
    uint8_t d[32], x[32], y[32];
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK || (rv = need_params(pBlob != NULL)) != SAR_OK) goto out;
    if (ulAlgId != SGD_SM2_1) {
        rv = SAR_NOTSUPPORTYETERR;
        goto out;
    }
    if ((rv = need_login(c->app->user_in)) != SAR_OK) goto out;
    if (!sm2_gen(d, x, y)) {
        rv = SAR_FAIL;
        goto out;
    }
    if ((rv = con_store_keypair(c, "sign", d, x, y)) == SAR_OK) pubblob_set(pBlob, x, y);
    secure_zero(d, sizeof d);
out:
    UNLOCK();
    return rv;
}

/* ENVELOPEDKEYBLOB: the SM4 key in ECCCipherBlob is SM2-encrypted to the
 * container's signing key; cbEncryptedPriKey holds the SM4-ECB encrypted
 * private key. Accepted conventions (first match whose public key equals
 * PubKey wins):
 *   A  all 64 bytes encrypted; plaintext = 32 zero bytes || d   (GmSSL)
 *   B  only bytes 32..63 encrypted ((ulBits+7)/8 = 32 bytes, right-aligned)
 *   C  only bytes 0..31 encrypted (left-aligned) */
ULONG DEVAPI SKF_ImportECCKeyPair(HCONTAINER hContainer, ENVELOPEDKEYBLOB *pEnvelopedKeyBlob)
{
    scon_t *c;
    const ENVELOPEDKEYBLOB *e = pEnvelopedKeyBlob;
    uint8_t sd[32], symkey[16], px[32], py[32], buf[64], d[32];
    ULONG rv;
    int found = 0;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK || (rv = need_params(e != NULL)) != SAR_OK) goto out;
    if ((rv = need_login(c->app->user_in)) != SAR_OK) goto out;
    if (e->Version != 1 || e->ulBits != 256) {
        rv = SAR_KEYINFOTYPEERR;
        goto out;
    }
    if (e->ulSymmAlgID != SGD_SMS4_ECB) {
        rv = SAR_NOTSUPPORTYETERR;
        goto out;
    }
    if ((rv = pubblob_get(&e->PubKey, px, py)) != SAR_OK) goto out;
    if (e->ECCCipherBlob.CipherLen != 16) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if ((rv = con_keypair(c, "sign", sd, NULL)) != SAR_OK) goto out;
    if ((rv = ecc_decrypt_blob(sd, &e->ECCCipherBlob, symkey)) != SAR_OK) goto out;
    /* A */
    if (sm4_ecb(symkey, e->cbEncryptedPriKey, buf, 64, 0) && !memcmp(buf, ZERO32, 32)) {
        memcpy(d, buf + 32, 32);
        found = priv_matches(d, px, py);
    }
    /* B */
    if (!found && sm4_ecb(symkey, e->cbEncryptedPriKey + 32, d, 32, 0)) found = priv_matches(d, px, py);
    /* C */
    if (!found && sm4_ecb(symkey, e->cbEncryptedPriKey, d, 32, 0)) found = priv_matches(d, px, py);
    if (!found) rv = SAR_KEYINFOTYPEERR;
    else rv = con_store_keypair(c, "enc", d, px, py);
out:
    secure_zero(sd, sizeof sd);
    secure_zero(symkey, sizeof symkey);
    secure_zero(buf, sizeof buf);
    secure_zero(d, sizeof d);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ECCSignData(HCONTAINER hContainer, BYTE *pbData, ULONG ulDataLen, ECCSIGNATUREBLOB *pSignature)
{
    scon_t *c;
    uint8_t d[32];
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK || (rv = need_params(pbData && pSignature)) != SAR_OK)
        goto out;
    if (ulDataLen != 32) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if ((rv = need_login(c->app->user_in)) != SAR_OK) goto out;
    if ((rv = con_keypair(c, "sign", d, NULL)) != SAR_OK) goto out;
    rv = sign_to_blob(d, pbData, pSignature);
out:
    UNLOCK();
    return rv;
}

static ULONG verify_common(ECCPUBLICKEYBLOB *pub, BYTE *data, ULONG len, ECCSIGNATUREBLOB *sig)
{
    uint8_t x[32], y[32], r[32], s[32];
    ULONG rv;
    int v;
    if (!pub || !data || !sig) return SAR_INVALIDPARAMERR;
    if (len != 32) return SAR_INDATALENERR;
    if ((rv = pubblob_get(pub, x, y)) != SAR_OK) return rv;
    if ((rv = sig_get(sig, r, s)) != SAR_OK) return SAR_FAIL;
    v = sm2_verify_e(x, y, data, r, s);
    if (v < 0) return SAR_INVALIDPARAMERR; /* bad public key */
    return v == 1 ? SAR_OK : SAR_FAIL;
}

/* ECCVerify and ExtECCVerify are the same call (no key of the device is used) */
static ULONG verify_call(const char *fn, DEVHANDLE hDev, ECCPUBLICKEYBLOB *pub, BYTE *data, ULONG len,
                         ECCSIGNATUREBLOB *sig)
{
    sdev_t *d;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(fn, hDev, &d)) == SAR_OK) rv = verify_common(pub, data, len, sig);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ECCVerify(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob, BYTE *pbData, ULONG ulDataLen,
                           ECCSIGNATUREBLOB *pSignature)
{
    return verify_call(__func__, hDev, pECCPubKeyBlob, pbData, ulDataLen, pSignature);
}

ULONG DEVAPI SKF_ExtECCVerify(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob, BYTE *pbData, ULONG ulDataLen,
                              ECCSIGNATUREBLOB *pSignature)
{
    return verify_call(__func__, hDev, pECCPubKeyBlob, pbData, ulDataLen, pSignature);
}

ULONG DEVAPI SKF_ExtECCSign(DEVHANDLE hDev, ECCPRIVATEKEYBLOB *pECCPriKeyBlob, BYTE *pbData, ULONG ulDataLen,
                            ECCSIGNATUREBLOB *pSignature)
{
    sdev_t *dv;
    uint8_t d[32];
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &dv)) != SAR_OK ||
        (rv = need_params(pECCPriKeyBlob && pbData && pSignature)) != SAR_OK)
        goto out;
    if (ulDataLen != 32) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if ((rv = privblob_get(pECCPriKeyBlob, d)) != SAR_OK) goto out;
    rv = sign_to_blob(d, pbData, pSignature);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ExtECCEncrypt(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob, BYTE *pbPlainText,
                               ULONG ulPlainTextLen, ECCCIPHERBLOB *pCipherText)
{
    sdev_t *d;
    uint8_t x[32], y[32];
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK ||
        (rv = need_params(pECCPubKeyBlob && pbPlainText && pCipherText)) != SAR_OK)
        goto out;
    if (ulPlainTextLen == 0 || ulPlainTextLen > SSKF_MAX_ECC_BUFFER) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if ((rv = pubblob_get(pECCPubKeyBlob, x, y)) != SAR_OK) goto out;
    rv = ecc_encrypt_to_blob(x, y, pbPlainText, ulPlainTextLen, pCipherText);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ExtECCDecrypt(DEVHANDLE hDev, ECCPRIVATEKEYBLOB *pECCPriKeyBlob, ECCCIPHERBLOB *pCipherText,
                               BYTE *pbPlainText, ULONG *pulPlainTextLen)
{
    sdev_t *dv;
    uint8_t d[32];
    uint8_t *tmp = NULL;
    ULONG rv, n;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &dv)) != SAR_OK ||
        (rv = need_params(pECCPriKeyBlob && pCipherText && pulPlainTextLen)) != SAR_OK)
        goto out;
    n = pCipherText->CipherLen;
    if (n == 0 || n > SSKF_MAX_ECC_BUFFER) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if (!out_room(pbPlainText, pulPlainTextLen, n, &rv)) goto out;
    if ((rv = privblob_get(pECCPriKeyBlob, d)) != SAR_OK) goto out;
    tmp = malloc(n);
    if (!tmp) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if ((rv = ecc_decrypt_blob(d, pCipherText, tmp)) == SAR_OK) {
        memcpy(pbPlainText, tmp, n);
        *pulPlainTextLen = n;
    }
    secure_zero(tmp, n);
    secure_zero(d, sizeof d);
out:
    free(tmp);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ECCExportSessionKey(HCONTAINER hContainer, ULONG ulAlgId, ECCPUBLICKEYBLOB *pPubKey,
                                     ECCCIPHERBLOB *pData, HANDLE *phSessionKey)
{
    scon_t *c;
    uint8_t x[32], y[32], key[16];
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK ||
        (rv = need_params(pPubKey && pData && phSessionKey)) != SAR_OK || (rv = sym_alg_check(ulAlgId)) != SAR_OK)
        goto out;
    if ((rv = pubblob_get(pPubKey, x, y)) != SAR_OK) goto out;
    if (!rand_bytes(key, 16)) {
        rv = SAR_GENRANDERR;
        goto out;
    }
    if ((rv = ecc_encrypt_to_blob(x, y, key, 16, pData)) != SAR_OK) goto out;
    rv = key_out(c->app->dev, ulAlgId, key, phSessionKey);
out:
    secure_zero(key, sizeof key);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_ImportSessionKey(HCONTAINER hContainer, ULONG ulAlgId, BYTE *pbWrapedData, ULONG ulWrapedLen,
                                  HANDLE *phKey)
{
    scon_t *c;
    uint8_t d[32], key[16];
    const ECCCIPHERBLOB *b = (const ECCCIPHERBLOB *)pbWrapedData;
    ULONG rv;
    LOCK();
    if ((rv = enter_con(__func__, hContainer, &c)) != SAR_OK || (rv = need_params(pbWrapedData && phKey)) != SAR_OK ||
        (rv = sym_alg_check(ulAlgId)) != SAR_OK)
        goto out;
    if (ulWrapedLen < 165 || b->CipherLen > ulWrapedLen - 164) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if (b->CipherLen != 16) {
        rv = SAR_KEYINFOTYPEERR;
        goto out;
    }
    if ((rv = need_login(c->app->user_in)) != SAR_OK) goto out;
    if ((rv = con_keypair(c, "enc", d, NULL)) != SAR_OK) goto out;
    if ((rv = ecc_decrypt_blob(d, b, key)) != SAR_OK) goto out;
    rv = key_out(c->app->dev, ulAlgId, key, phKey);
out:
    secure_zero(d, sizeof d);
    secure_zero(key, sizeof key);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_SetSymmKey(DEVHANDLE hDev, BYTE *pbKey, ULONG ulAlgID, HANDLE *phKey)
{
    sdev_t *d;
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) == SAR_OK && (rv = need_params(pbKey && phKey)) == SAR_OK &&
        (rv = sym_alg_check(ulAlgID)) == SAR_OK)
        rv = key_out(d, ulAlgID, pbKey, phKey);
    UNLOCK();
    return rv;
}

/* ----------------------------------------------------------- SM4 ECB/CBC */
/* Streaming (cipher and MAC): the pending partial block followed by n input
 * bytes, in a fresh buffer of alloc bytes (NULL if out of memory). */
static uint8_t *join_pending(const uint8_t *pend, size_t plen, const BYTE *in, ULONG n, size_t alloc)
{
    uint8_t *all = malloc(alloc);
    if (!all) return NULL;
    memcpy(all, pend, plen);
    if (n) memcpy(all + plen, in, n);
    return all;
}

/* run n bytes (whole blocks) through ctx; 1 if all n came out */
static int sm4_blocks(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t n)
{
    int l = 0;
    return EVP_CipherUpdate(ctx, out, &l, in, (int)n) == 1 && (size_t)l == n;
}

static void set_pending(uint8_t pend[16], size_t *plen, const uint8_t *src, size_t n)
{
    memcpy(pend, src, n);
    *plen = n;
}

static ULONG cipher_init(skey_t *k, const BLOCKCIPHERPARAM *p, int enc)
{
    const EVP_CIPHER *cip;
    if (p->PaddingType > 1) return SAR_INVALIDPARAMERR;
    if (k->alg == SGD_SMS4_ECB) {
        cip = EVP_sm4_ecb();
    } else if (k->alg == SGD_SMS4_CBC) {
        if (p->IVLen != 16) return SAR_INVALIDPARAMERR;
        cip = EVP_sm4_cbc();
    } else {
        return SAR_KEYUSAGEERR; /* a MAC key */
    }
    if (!k->ctx && !(k->ctx = EVP_CIPHER_CTX_new())) return SAR_MEMORYERR;
    if (EVP_CipherInit_ex(k->ctx, cip, NULL, k->key, k->alg == SGD_SMS4_CBC ? p->IV : NULL, enc) != 1)
        return SAR_FAIL;
    EVP_CIPHER_CTX_set_padding(k->ctx, 0);
    k->op = enc ? 1 : 2;
    k->padding = (int)p->PaddingType;
    k->buflen = 0;
    return SAR_OK;
}

/* Run an update (final=0) or update+final (final=1) step on a copy of the
 * cipher state; commit only if the caller's buffer is large enough. Sizes
 * returned are exact. */
static ULONG cipher_step(skey_t *k, int enc, const BYTE *in, ULONG n, BYTE *out, ULONG *outlen, int final)
{
    EVP_CIPHER_CTX *cp = NULL;
    uint8_t *all = NULL, *res = NULL;
    size_t total, proc, keep, reslen = 0, alloc;
    ULONG rv = SAR_OK;
    if (k->op != (enc ? 1 : 2)) return SAR_NOTINITIALIZEERR;
    if (!outlen || (n && !in)) return SAR_INVALIDPARAMERR;
    if (n > SSKF_MAX_BUFFER) return SAR_INDATALENERR;
    total = k->buflen + n;
    alloc = total + 16;
    all = join_pending(k->buf, k->buflen, in, n, alloc);
    res = malloc(alloc);
    cp = EVP_CIPHER_CTX_new();
    if (!all || !res || !cp || EVP_CIPHER_CTX_copy(cp, k->ctx) != 1) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (!final) {
        proc = total / 16 * 16;
        if (!enc && k->padding && proc == total && proc > 0) proc -= 16; /* hold back last block */
    } else if (enc) {
        if (k->padding) {
            uint8_t pad = (uint8_t)(16 - total % 16);
            memset(all + total, pad, pad);
            total += pad;
        } else if (total % 16) {
            rv = SAR_INDATALENERR;
            goto out;
        }
        proc = total;
    } else {
        if (total % 16 || (k->padding && total == 0)) {
            rv = SAR_INDATALENERR;
            goto out;
        }
        proc = total;
    }
    keep = total - proc;
    if (proc && !sm4_blocks(cp, res, all, proc)) {
        rv = SAR_FAIL;
        goto out;
    }
    reslen = proc;
    if (final && !enc && k->padding) {
        uint8_t pad = res[reslen - 1];
        size_t i;
        if (pad < 1 || pad > 16) {
            rv = SAR_DECRYPTPADERR;
            goto out;
        }
        for (i = 0; i < pad; i++)
            if (res[reslen - 1 - i] != pad) {
                rv = SAR_DECRYPTPADERR;
                goto out;
            }
        reslen -= pad;
    }
    if ((rv = out_copy(out, outlen, res, reslen)) != SAR_OK || !out) goto out_nocommit;
    /* commit */
    set_pending(k->buf, &k->buflen, all + proc, keep);
    EVP_CIPHER_CTX_free(k->ctx);
    k->ctx = cp;
    cp = NULL;
    if (final) k->op = 0;
    goto out_nocommit;
out:
    /* errors other than sizing end the operation when finishing */
    if (final && rv != SAR_MEMORYERR) k->op = 0;
out_nocommit:
    EVP_CIPHER_CTX_free(cp);
    if (res) {
        secure_zero(res, alloc);
        free(res);
    }
    if (all) {
        secure_zero(all, alloc);
        free(all);
    }
    return rv;
}

static ULONG init_call(const char *fn, HANDLE hKey, const BLOCKCIPHERPARAM *p, int enc)
{
    skey_t *k;
    ULONG rv;
    LOCK();
    if ((rv = enter_key(fn, hKey, &k)) == SAR_OK) rv = cipher_init(k, p, enc);
    UNLOCK();
    return rv;
}

static ULONG step_call(const char *fn, HANDLE hKey, int enc, const BYTE *in, ULONG n, BYTE *out, ULONG *outlen,
                       int final)
{
    skey_t *k;
    ULONG rv;
    LOCK();
    if ((rv = enter_key(fn, hKey, &k)) == SAR_OK) rv = cipher_step(k, enc, in, n, out, outlen, final);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_EncryptInit(HANDLE hKey, BLOCKCIPHERPARAM EncryptParam)
{
    return init_call(__func__, hKey, &EncryptParam, 1);
}

ULONG DEVAPI SKF_DecryptInit(HANDLE hKey, BLOCKCIPHERPARAM DecryptParam)
{
    return init_call(__func__, hKey, &DecryptParam, 0);
}

ULONG DEVAPI SKF_Encrypt(HANDLE hKey, BYTE *pbData, ULONG ulDataLen, BYTE *pbEncryptedData, ULONG *pulEncryptedLen)
{
    return step_call(__func__, hKey, 1, pbData, ulDataLen, pbEncryptedData, pulEncryptedLen, 1);
}

ULONG DEVAPI SKF_EncryptUpdate(HANDLE hKey, BYTE *pbData, ULONG ulDataLen, BYTE *pbEncryptedData,
                               ULONG *pulEncryptedLen)
{
    return step_call(__func__, hKey, 1, pbData, ulDataLen, pbEncryptedData, pulEncryptedLen, 0);
}

ULONG DEVAPI SKF_EncryptFinal(HANDLE hKey, BYTE *pbEncryptedData, ULONG *pulEncryptedDataLen)
{
    return step_call(__func__, hKey, 1, NULL, 0, pbEncryptedData, pulEncryptedDataLen, 1);
}

ULONG DEVAPI SKF_Decrypt(HANDLE hKey, BYTE *pbEncryptedData, ULONG ulEncryptedLen, BYTE *pbData, ULONG *pulDataLen)
{
    return step_call(__func__, hKey, 0, pbEncryptedData, ulEncryptedLen, pbData, pulDataLen, 1);
}

ULONG DEVAPI SKF_DecryptUpdate(HANDLE hKey, BYTE *pbEncryptedData, ULONG ulEncryptedLen, BYTE *pbData,
                               ULONG *pulDataLen)
{
    return step_call(__func__, hKey, 0, pbEncryptedData, ulEncryptedLen, pbData, pulDataLen, 0);
}

ULONG DEVAPI SKF_DecryptFinal(HANDLE hKey, BYTE *pbDecryptedData, ULONG *pulDecryptedDataLen)
{
    return step_call(__func__, hKey, 0, NULL, 0, pbDecryptedData, pulDecryptedDataLen, 1);
}

/* --------------------------------------------------------------- digest */
ULONG DEVAPI SKF_DigestInit(DEVHANDLE hDev, ULONG ulAlgID, ECCPUBLICKEYBLOB *pPubKey, BYTE *pucID, ULONG ulIDLen,
                            HANDLE *phHash)
{
    sdev_t *d;
    shash_t *h = NULL;
    uint8_t x[32], y[32], z[32];
    ULONG rv;
    LOCK();
    if ((rv = enter_dev(__func__, hDev, &d)) != SAR_OK || (rv = need_params(phHash != NULL)) != SAR_OK) goto out;
    if (ulAlgID != SGD_SM3) {
        rv = SAR_NOTSUPPORTYETERR;
        goto out;
    }
    if (pPubKey && ulIDLen > 0) {
        if (!pucID || ulIDLen > 1024) {
            rv = SAR_INVALIDPARAMERR;
            goto out;
        }
        if ((rv = pubblob_get(pPubKey, x, y)) != SAR_OK) goto out;
        if (!sm3_z(x, y, pucID, ulIDLen, z)) {
            rv = SAR_HASHERR;
            goto out;
        }
    }
    h = h_new(K_HASH, sizeof(shash_t));
    if (!h || !(h->md = EVP_MD_CTX_new())) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    h->dev = d;
    if (EVP_DigestInit_ex(h->md, EVP_sm3(), NULL) != 1 ||
        (pPubKey && ulIDLen > 0 && EVP_DigestUpdate(h->md, z, 32) != 1)) {
        rv = SAR_HASHERR;
        goto out;
    }
    *phHash = h;
    h = NULL;
out:
    if (h) h_free(h);
    UNLOCK();
    return rv;
}

/* a hash handle that can still take data */
static ULONG enter_live_hash(const char *fn, HANDLE hHash, shash_t **h)
{
    ULONG rv = enter_hash(fn, hHash, h);
    if (rv == SAR_OK && (*h)->done) rv = SAR_HASHOBJERR;
    return rv;
}

static ULONG digest_final(shash_t *h, BYTE *out, ULONG *outlen)
{
    unsigned int l = 32;
    ULONG rv;
    if (!outlen) return SAR_INVALIDPARAMERR;
    if (!out_room(out, outlen, 32, &rv)) return rv;
    if (EVP_DigestFinal_ex(h->md, out, &l) != 1) return SAR_HASHERR;
    h->done = 1;
    *outlen = 32;
    return SAR_OK;
}

ULONG DEVAPI SKF_Digest(HANDLE hHash, BYTE *pbData, ULONG ulDataLen, BYTE *pbHashData, ULONG *pulHashLen)
{
    shash_t *h;
    ULONG rv;
    LOCK();
    if ((rv = enter_live_hash(__func__, hHash, &h)) != SAR_OK ||
        (rv = need_params((pbData || !ulDataLen) && pulHashLen)) != SAR_OK)
        goto out;
    if (!pbHashData || *pulHashLen < 32) {
        rv = digest_final(h, pbHashData, pulHashLen); /* size query only */
        goto out;
    }
    if (ulDataLen && EVP_DigestUpdate(h->md, pbData, ulDataLen) != 1) {
        rv = SAR_HASHERR;
        goto out;
    }
    rv = digest_final(h, pbHashData, pulHashLen);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_DigestUpdate(HANDLE hHash, BYTE *pbData, ULONG ulDataLen)
{
    shash_t *h;
    ULONG rv;
    LOCK();
    if ((rv = enter_live_hash(__func__, hHash, &h)) == SAR_OK && (rv = need_params(pbData || !ulDataLen)) == SAR_OK &&
        ulDataLen && EVP_DigestUpdate(h->md, pbData, ulDataLen) != 1)
        rv = SAR_HASHERR;
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_DigestFinal(HANDLE hHash, BYTE *pHashData, ULONG *pulHashLen)
{
    shash_t *h;
    ULONG rv;
    LOCK();
    if ((rv = enter_live_hash(__func__, hHash, &h)) == SAR_OK) rv = digest_final(h, pHashData, pulHashLen);
    UNLOCK();
    return rv;
}

/* ------------------------------------------------------------------ MAC */
ULONG DEVAPI SKF_MacInit(HANDLE hKey, BLOCKCIPHERPARAM *pMacParam, HANDLE *phMac)
{
    skey_t *k;
    smac_t *m = NULL;
    uint8_t iv[16];
    ULONG rv;
    LOCK();
    if ((rv = enter_key(__func__, hKey, &k)) != SAR_OK || (rv = need_params(pMacParam && phMac)) != SAR_OK) goto out;
    if ((pMacParam->IVLen != 0 && pMacParam->IVLen != 16) || pMacParam->PaddingType != 0) {
        rv = SAR_INVALIDPARAMERR;
        goto out;
    }
    memset(iv, 0, sizeof iv);
    if (pMacParam->IVLen) memcpy(iv, pMacParam->IV, 16);
    m = h_new(K_MAC, sizeof(smac_t));
    if (!m || !(m->ctx = EVP_CIPHER_CTX_new())) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    m->dev = k->dev;
    if (EVP_EncryptInit_ex(m->ctx, EVP_sm4_cbc(), NULL, k->key, iv) != 1) {
        rv = SAR_FAIL;
        goto out;
    }
    EVP_CIPHER_CTX_set_padding(m->ctx, 0);
    *phMac = m;
    m = NULL;
out:
    if (m) h_free(m);
    UNLOCK();
    return rv;
}

/* a MAC handle whose result was not taken yet */
static ULONG enter_live_mac(const char *fn, HANDLE hMac, smac_t **m)
{
    ULONG rv = enter_mac(fn, hMac, m);
    if (rv == SAR_OK && (*m)->done == 1) rv = SAR_NOTINITIALIZEERR;
    return rv;
}

static ULONG mac_update(smac_t *m, const BYTE *in, ULONG n)
{
    uint8_t *all, *res;
    size_t total = m->buflen + n, proc = total / 16 * 16;
    ULONG rv = SAR_OK;
    if (n > SSKF_MAX_BUFFER) return SAR_INDATALENERR;
    all = join_pending(m->buf, m->buflen, in, n, total + 1);
    res = malloc(total + 1);
    if (!all || !res) {
        rv = SAR_MEMORYERR;
        goto out;
    }
    if (proc) {
        if (!sm4_blocks(m->ctx, res, all, proc)) {
            rv = SAR_FAIL;
            goto out;
        }
        memcpy(m->last, res + proc - 16, 16);
        m->done = 2; /* at least one block */
    }
    set_pending(m->buf, &m->buflen, all + proc, total - proc);
out:
    free(all);
    free(res);
    return rv;
}

static ULONG mac_final(smac_t *m, BYTE *out, ULONG *outlen)
{
    ULONG rv;
    if (!outlen) return SAR_INVALIDPARAMERR;
    if (!out_room(out, outlen, 16, &rv)) return rv;
    if (m->buflen != 0 || m->done != 2) {
        m->done = 1;
        return SAR_INDATALENERR; /* CBC-MAC input must be whole blocks */
    }
    memcpy(out, m->last, 16);
    *outlen = 16;
    m->done = 1;
    return SAR_OK;
}

ULONG DEVAPI SKF_Mac(HANDLE hMac, BYTE *pbData, ULONG ulDataLen, BYTE *pbMacData, ULONG *pulMacLen)
{
    smac_t *m;
    ULONG rv;
    LOCK();
    if ((rv = enter_live_mac(__func__, hMac, &m)) != SAR_OK ||
        (rv = need_params((pbData || !ulDataLen) && pulMacLen)) != SAR_OK)
        goto out;
    if (ulDataLen % 16 || ulDataLen == 0) {
        rv = SAR_INDATALENERR;
        goto out;
    }
    if (!pbMacData || *pulMacLen < 16) {
        rv = mac_final(m, pbMacData, pulMacLen);
        goto out;
    }
    if ((rv = mac_update(m, pbData, ulDataLen)) == SAR_OK) rv = mac_final(m, pbMacData, pulMacLen);
out:
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_MacUpdate(HANDLE hMac, BYTE *pbData, ULONG ulDataLen)
{
    smac_t *m;
    ULONG rv;
    LOCK();
    if ((rv = enter_live_mac(__func__, hMac, &m)) == SAR_OK && (rv = need_params(pbData || !ulDataLen)) == SAR_OK)
        rv = mac_update(m, pbData, ulDataLen);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_MacFinal(HANDLE hMac, BYTE *pbMacData, ULONG *pulMacDataLen)
{
    smac_t *m;
    ULONG rv;
    LOCK();
    if ((rv = enter_live_mac(__func__, hMac, &m)) == SAR_OK) rv = mac_final(m, pbMacData, pulMacDataLen);
    UNLOCK();
    return rv;
}

ULONG DEVAPI SKF_CloseHandle(HANDLE hHandle)
{
    ULONG rv;
    LOCK();
    rv = close_obj(__func__, hHandle, KIND_BIT(K_KEY) | KIND_BIT(K_HASH) | KIND_BIT(K_MAC));
    UNLOCK();
    return rv;
}

/* ------------------------------------------------- not supported (RSA etc.) */
static ULONG notsup(const char *fn)
{
    ULONG rv = enter_plain_locked(fn);
    return rv == SAR_OK ? SAR_NOTSUPPORTYETERR : rv;
}
#define NOTSUP_BODY return notsup(__func__);

ULONG DEVAPI SKF_GenExtRSAKey(DEVHANDLE hDev, ULONG ulBitsLen, RSAPRIVATEKEYBLOB *pBlob)
{
    (void)hDev, (void)ulBitsLen, (void)pBlob;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_GenRSAKeyPair(HCONTAINER hContainer, ULONG ulBitsLen, RSAPUBLICKEYBLOB *pBlob)
{
    (void)hContainer, (void)ulBitsLen, (void)pBlob;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_ImportRSAKeyPair(HCONTAINER hContainer, ULONG ulSymAlgId, BYTE *pbWrappedKey, ULONG ulWrappedKeyLen,
                                  BYTE *pbEncryptedData, ULONG ulEncryptedDataLen)
{
    (void)hContainer, (void)ulSymAlgId, (void)pbWrappedKey, (void)ulWrappedKeyLen, (void)pbEncryptedData,
        (void)ulEncryptedDataLen;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_RSASignData(HCONTAINER hContainer, BYTE *pbData, ULONG ulDataLen, BYTE *pbSignature,
                             ULONG *pulSignLen)
{
    (void)hContainer, (void)pbData, (void)ulDataLen, (void)pbSignature, (void)pulSignLen;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_RSAVerify(DEVHANDLE hDev, RSAPUBLICKEYBLOB *pRSAPubKeyBlob, BYTE *pbData, ULONG ulDataLen,
                           BYTE *pbSignature, ULONG ulSignLen)
{
    (void)hDev, (void)pRSAPubKeyBlob, (void)pbData, (void)ulDataLen, (void)pbSignature, (void)ulSignLen;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_RSAExportSessionKey(HCONTAINER hContainer, ULONG ulAlgId, RSAPUBLICKEYBLOB *pPubKey, BYTE *pbData,
                                     ULONG *pulDataLen, HANDLE *phSessionKey)
{
    (void)hContainer, (void)ulAlgId, (void)pPubKey, (void)pbData, (void)pulDataLen, (void)phSessionKey;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_ExtRSAPubKeyOperation(DEVHANDLE hDev, RSAPUBLICKEYBLOB *pRSAPubKeyBlob, BYTE *pbInput,
                                       ULONG ulInputLen, BYTE *pbOutput, ULONG *pulOutputLen)
{
    (void)hDev, (void)pRSAPubKeyBlob, (void)pbInput, (void)ulInputLen, (void)pbOutput, (void)pulOutputLen;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_ExtRSAPriKeyOperation(DEVHANDLE hDev, RSAPRIVATEKEYBLOB *pRSAPriKeyBlob, BYTE *pbInput,
                                       ULONG ulInputLen, BYTE *pbOutput, ULONG *pulOutputLen)
{
    (void)hDev, (void)pRSAPriKeyBlob, (void)pbInput, (void)ulInputLen, (void)pbOutput, (void)pulOutputLen;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_GenerateAgreementDataWithECC(HCONTAINER hContainer, ULONG ulAlgId,
                                              ECCPUBLICKEYBLOB *pTempECCPubKeyBlob, BYTE *pbID, ULONG ulIDLen,
                                              HANDLE *phAgreementHandle)
{
    (void)hContainer, (void)ulAlgId, (void)pTempECCPubKeyBlob, (void)pbID, (void)ulIDLen, (void)phAgreementHandle;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_GenerateAgreementDataAndKeyWithECC(HANDLE hContainer, ULONG ulAlgId,
                                                    ECCPUBLICKEYBLOB *pSponsorECCPubKeyBlob,
                                                    ECCPUBLICKEYBLOB *pSponsorTempECCPubKeyBlob,
                                                    ECCPUBLICKEYBLOB *pTempECCPubKeyBlob, BYTE *pbID, ULONG ulIDLen,
                                                    BYTE *pbSponsorID, ULONG ulSponsorIDLen, HANDLE *phKeyHandle)
{
    (void)hContainer, (void)ulAlgId, (void)pSponsorECCPubKeyBlob, (void)pSponsorTempECCPubKeyBlob,
        (void)pTempECCPubKeyBlob, (void)pbID, (void)ulIDLen, (void)pbSponsorID, (void)ulSponsorIDLen,
        (void)phKeyHandle;
    NOTSUP_BODY
}
ULONG DEVAPI SKF_GenerateKeyWithECC(HANDLE hAgreementHandle, ECCPUBLICKEYBLOB *pECCPubKeyBlob,
                                    ECCPUBLICKEYBLOB *pTempECCPubKeyBlob, BYTE *pbID, ULONG ulIDLen,
                                    HANDLE *phKeyHandle)
{
    (void)hAgreementHandle, (void)pECCPubKeyBlob, (void)pTempECCPubKeyBlob, (void)pbID, (void)ulIDLen,
        (void)phKeyHandle;
    NOTSUP_BODY
}
