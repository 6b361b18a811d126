#include "agent/ca/certificate_fields.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include "common/tls/openssl_error.h"

namespace weft::ca {
namespace {

absl::Status AddExtension(X509* cert, int nid, void* value, bool critical, const char* what) {
  if (X509_add1_ext_i2d(cert, nid, value, critical ? 1 : 0, X509V3_ADD_REPLACE) != 1) {
    return tls::OpenSslInternal(std::string("adding ") + what);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return tls::OpenSslInternal("generating a serial");
  tls::BignumPtr bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (bn == nullptr) return tls::OpenSslInternal("converting a serial");
  // Zero is not a valid serial; 2^-128 odds, but cheap to rule out.
  if (BN_is_zero(bn.get()) && BN_one(bn.get()) != 1) return tls::OpenSslInternal("fixing a serial");
  tls::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (serial == nullptr || X509_set_serialNumber(cert, serial.get()) != 1) {
    return tls::OpenSslInternal("setting a serial");
  }
  return absl::OkStatus();
}

absl::Status SetValidity(X509* cert, absl::Time not_before, absl::Time not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), absl::ToTimeT(not_after)) == nullptr) {
    return tls::OpenSslInternal("setting the validity period");
  }
  return absl::OkStatus();
}

absl::Status AddBasicConstraints(X509* cert, bool is_ca) {
  tls::BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  if (bc == nullptr) return tls::OpenSslInternal("allocating basicConstraints");
  bc->ca = is_ca ? 0xff : 0;
  return AddExtension(cert, NID_basic_constraints, bc.get(), true, "basicConstraints");
}

absl::Status AddKeyUsage(X509* cert, int usage_bits) {
  tls::Asn1BitStringPtr bits(ASN1_BIT_STRING_new());
  if (bits == nullptr) return tls::OpenSslInternal("allocating keyUsage");
  // KU_* constants are the DER bit string's first two bytes, bit 0 = 0x80 of byte 0.
  for (int bit = 0; bit < 9; ++bit) {
    int mask = bit < 8 ? (0x80 >> bit) : 0x8000;
    if ((usage_bits & mask) != 0 && ASN1_BIT_STRING_set_bit(bits.get(), bit, 1) != 1) {
      return tls::OpenSslInternal("setting keyUsage bits");
    }
  }
  return AddExtension(cert, NID_key_usage, bits.get(), true, "keyUsage");
}

absl::Status AddServerAndClientAuth(X509* cert) {
  tls::ExtendedKeyUsagePtr eku(sk_ASN1_OBJECT_new_null());
  if (eku == nullptr) return tls::OpenSslInternal("allocating extendedKeyUsage");
  for (int nid : {NID_server_auth, NID_client_auth}) {
    // OBJ_nid2obj returns a static object; pushing it does not transfer anything to free.
    if (sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(nid)) <= 0) {
      return tls::OpenSslInternal("building extendedKeyUsage");
    }
  }
  return AddExtension(cert, NID_ext_key_usage, eku.get(), false, "extendedKeyUsage");
}

absl::Status AddSubjectKeyId(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_pubkey_digest(cert, EVP_sha1(), digest, &length) != 1) {
    return tls::OpenSslInternal("hashing the public key for subjectKeyIdentifier");
  }
  ASN1_OCTET_STRING* ski = ASN1_OCTET_STRING_new();
  if (ski == nullptr || ASN1_OCTET_STRING_set(ski, digest, static_cast<int>(length)) != 1) {
    ASN1_OCTET_STRING_free(ski);
    return tls::OpenSslInternal("building subjectKeyIdentifier");
  }
  absl::Status status =
      AddExtension(cert, NID_subject_key_identifier, ski, false, "subjectKeyIdentifier");
  ASN1_OCTET_STRING_free(ski);
  return status;
}

absl::Status AddAuthorityKeyId(X509* cert, X509* issuer) {
  const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(issuer);
  if (issuer_ski == nullptr) {
    return absl::FailedPreconditionError("the issuer has no subjectKeyIdentifier");
  }
  AUTHORITY_KEYID* akid = AUTHORITY_KEYID_new();
  if (akid == nullptr) return tls::OpenSslInternal("allocating authorityKeyIdentifier");
  akid->keyid = ASN1_OCTET_STRING_dup(issuer_ski);
  absl::Status status =
      akid->keyid == nullptr
          ? tls::OpenSslInternal("copying the issuer's key identifier")
          : AddExtension(cert, NID_authority_key_identifier, akid, false, "authorityKeyIdentifier");
  AUTHORITY_KEYID_free(akid);
  return status;
}

absl::Status AddUriSan(X509* cert, const std::string& uri, bool critical) {
  absl::StatusOr<tls::GeneralNamesPtr> names = tls::SingleUriGeneralNames(uri);
  if (!names.ok()) return names.status();
  return AddExtension(cert, NID_subject_alt_name, names->get(), critical, "subjectAltName");
}

}  // namespace weft::ca
