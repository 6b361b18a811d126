#include "tests/unit/ca/ca_test_support.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include <filesystem>

namespace weft::ca::testing {

TempDir::TempDir() {
  std::string pattern = ::testing::TempDir() + "/weft_ca_XXXXXX";
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

tls::EvpPkeyPtr GenerateEcKey(const char* curve) { return tls::EvpPkeyPtr(EVP_EC_gen(curve)); }

tls::EvpPkeyPtr GenerateRsaKey() { return tls::EvpPkeyPtr(EVP_RSA_gen(2048)); }

namespace {

void AddName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* str = ASN1_IA5STRING_new();
  ASN1_STRING_set(str, value.data(), static_cast<int>(value.size()));
  GENERAL_NAME_set0_value(name, type, str);
  sk_GENERAL_NAME_push(names, name);
}

}  // namespace

std::string MakeCsr(EVP_PKEY* key, const std::vector<std::string>& uri_sans,
                    const std::vector<std::string>& dns_sans) {
  tls::X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("requested-cn"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  if (!uri_sans.empty() || !dns_sans.empty()) {
    tls::GeneralNamesPtr names(GENERAL_NAMES_new());
    for (const std::string& uri : uri_sans) AddName(names.get(), GEN_URI, uri);
    for (const std::string& dns : dns_sans) AddName(names.get(), GEN_DNS, dns);
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get());
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  EXPECT_GT(X509_REQ_sign(req.get(), key, EVP_sha256()), 0);
  tls::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string TamperCsrSignature(const std::string& csr_pem) {
  tls::BioPtr in(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  tls::X509ReqPtr req(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  unsigned char* der = nullptr;
  int length = i2d_X509_REQ(req.get(), &der);
  // The DER ends with the signature's last INTEGER byte: flipping it keeps the encoding valid
  // while breaking the signature.
  der[length - 1] ^= 0x01;
  const unsigned char* cursor = der;
  tls::X509ReqPtr tampered(d2i_X509_REQ(nullptr, &cursor, length));
  OPENSSL_free(der);
  tls::BioPtr out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(out.get(), tampered.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

tls::X509Ptr ParseCertificate(const std::string& pem) {
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return tls::X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace weft::ca::testing
