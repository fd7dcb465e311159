/* layout_check.c - compile-time proof that skf.h matches GM/T 0016-2012
 * (packed layouts; see docs standards.md section 1.4). Emits no code. */
#include <stddef.h>

#include "skf.h"

#define CHECK(cond, msg) _Static_assert(cond, msg)

CHECK(sizeof(BYTE) == 1 && sizeof(ULONG) == 4 && sizeof(BOOL) == 4 && sizeof(DWORD) == 4, "basic types");
CHECK(sizeof(VERSION) == 2, "VERSION");
CHECK(sizeof(DEVINFO) == 294, "DEVINFO size");
CHECK(offsetof(DEVINFO, Manufacturer) == 2, "DEVINFO.Manufacturer");
CHECK(offsetof(DEVINFO, Issuer) == 66, "DEVINFO.Issuer");
CHECK(offsetof(DEVINFO, Label) == 130, "DEVINFO.Label");
CHECK(offsetof(DEVINFO, SerialNumber) == 162, "DEVINFO.SerialNumber");
CHECK(offsetof(DEVINFO, HWVersion) == 194, "DEVINFO.HWVersion");
CHECK(offsetof(DEVINFO, FirmwareVersion) == 196, "DEVINFO.FirmwareVersion");
CHECK(offsetof(DEVINFO, AlgSymCap) == 198, "DEVINFO.AlgSymCap");
CHECK(offsetof(DEVINFO, AlgAsymCap) == 202, "DEVINFO.AlgAsymCap");
CHECK(offsetof(DEVINFO, MaxECCBufferSize) == 222, "DEVINFO.MaxECCBufferSize");
CHECK(offsetof(DEVINFO, MaxBufferSize) == 226, "DEVINFO.MaxBufferSize");
CHECK(offsetof(DEVINFO, Reserved) == 230, "DEVINFO.Reserved");
CHECK(sizeof(RSAPUBLICKEYBLOB) == 268, "RSAPUBLICKEYBLOB");
CHECK(sizeof(RSAPRIVATEKEYBLOB) == 268 + 256 + 5 * 128, "RSAPRIVATEKEYBLOB");
CHECK(sizeof(ECCPUBLICKEYBLOB) == 132, "ECCPUBLICKEYBLOB");
CHECK(offsetof(ECCPUBLICKEYBLOB, YCoordinate) == 68, "ECCPUBLICKEYBLOB.Y");
CHECK(sizeof(ECCPRIVATEKEYBLOB) == 68, "ECCPRIVATEKEYBLOB");
CHECK(sizeof(ECCSIGNATUREBLOB) == 128, "ECCSIGNATUREBLOB");
CHECK(offsetof(ECCCIPHERBLOB, HASH) == 128, "ECCCIPHERBLOB.HASH");
CHECK(offsetof(ECCCIPHERBLOB, CipherLen) == 160, "ECCCIPHERBLOB.CipherLen");
CHECK(offsetof(ECCCIPHERBLOB, Cipher) == 164, "ECCCIPHERBLOB.Cipher");
CHECK(sizeof(ECCCIPHERBLOB) == 165, "ECCCIPHERBLOB");
CHECK(sizeof(BLOCKCIPHERPARAM) == 44, "BLOCKCIPHERPARAM");
CHECK(offsetof(BLOCKCIPHERPARAM, IVLen) == 32, "BLOCKCIPHERPARAM.IVLen");
CHECK(offsetof(ENVELOPEDKEYBLOB, cbEncryptedPriKey) == 12, "ENVELOPEDKEYBLOB.cbEncryptedPriKey");
CHECK(offsetof(ENVELOPEDKEYBLOB, PubKey) == 76, "ENVELOPEDKEYBLOB.PubKey");
CHECK(offsetof(ENVELOPEDKEYBLOB, ECCCipherBlob) == 208, "ENVELOPEDKEYBLOB.ECCCipherBlob");
CHECK(sizeof(FILEATTRIBUTE) == 44, "FILEATTRIBUTE");
CHECK(offsetof(FILEATTRIBUTE, FileSize) == 32, "FILEATTRIBUTE.FileSize");

/* ISO C forbids an empty translation unit */
typedef int sskf_layout_check_dummy;
