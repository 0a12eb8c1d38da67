#include "core/crypto.h"

#ifdef _WIN32
// Windows CNG: Debian has no OpenSSL for mingw, and Windows ships its own primitives.
#include <windows.h>
// windows.h first: bcrypt.h needs its types.
#include <bcrypt.h>
#else
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#endif

#include <stdexcept>

namespace ddnswatch {

namespace {

#ifdef _WIN32

enum Algorithm { kSha1, kSha256, kSha512 };

// Every provider is opened on first use and kept for the process's life: CNG algorithm
// handles may be shared between threads, and opening one is the costly part.
BCRYPT_ALG_HANDLE provider(Algorithm algorithm, bool hmac, const char* name) {
  struct Providers {
    BCRYPT_ALG_HANDLE handles[3][2] = {};
    Providers() {
      const LPCWSTR names[3] = {BCRYPT_SHA1_ALGORITHM, BCRYPT_SHA256_ALGORITHM,
                                BCRYPT_SHA512_ALGORITHM};
      for (int a = 0; a < 3; ++a) {
        for (int keyed = 0; keyed < 2; ++keyed) {
          if (BCryptOpenAlgorithmProvider(&handles[a][keyed], names[a], nullptr,
                                          keyed ? BCRYPT_ALG_HANDLE_HMAC_FLAG : 0) < 0) {
            handles[a][keyed] = nullptr;
          }
        }
      }
    }
  };
  static const Providers providers;  // initialised once, thread-safely
  BCRYPT_ALG_HANDLE h = providers.handles[algorithm][hmac ? 1 : 0];
  if (h == nullptr) throw std::runtime_error(std::string(name) + ": no CNG provider");
  return h;
}

// A hash (an unkeyed provider) or an HMAC of `message`; `size` is the digest's length.
std::string digest(BCRYPT_ALG_HANDLE alg, const char* name, size_t size, std::string_view key,
                   std::string_view message) {
  BCRYPT_HASH_HANDLE hash = nullptr;
  // CNG wants a non-null secret pointer even for an empty HMAC key.
  unsigned char empty = 0;
  auto* secret =
      key.empty() ? &empty : reinterpret_cast<unsigned char*>(const_cast<char*>(key.data()));
  std::string out(size, '\0');
  bool ok =
      BCryptCreateHash(alg, &hash, nullptr, 0, secret, static_cast<ULONG>(key.size()), 0) >= 0;
  ok = ok &&
       BCryptHashData(hash, reinterpret_cast<unsigned char*>(const_cast<char*>(message.data())),
                      static_cast<ULONG>(message.size()), 0) >= 0;
  ok = ok && BCryptFinishHash(hash, reinterpret_cast<unsigned char*>(out.data()),
                              static_cast<ULONG>(out.size()), 0) >= 0;
  if (hash) BCryptDestroyHash(hash);
  if (!ok) throw std::runtime_error(std::string(name) + " failed");
  return out;
}

}  // namespace

std::string hmac_sha1(std::string_view key, std::string_view message) {
  return digest(provider(kSha1, true, "HMAC-SHA1"), "HMAC-SHA1", 20, key, message);
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return digest(provider(kSha256, true, "HMAC-SHA256"), "HMAC-SHA256", 32, key, message);
}

std::string hmac_sha512(std::string_view key, std::string_view message) {
  return digest(provider(kSha512, true, "HMAC-SHA512"), "HMAC-SHA512", 64, key, message);
}

std::string sha256(std::string_view data) {
  return digest(provider(kSha256, false, "SHA-256"), "SHA-256", 32, {}, data);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

bool random_bytes(void* out, size_t size) {
  return BCryptGenRandom(nullptr, static_cast<PUCHAR>(out), static_cast<ULONG>(size),
                         BCRYPT_USE_SYSTEM_PREFERRED_RNG) >= 0;
}

#else

std::string hmac(const EVP_MD* md, const char* name, std::string_view key,
                 std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
           &len) == nullptr) {
    // Only when OpenSSL is out of memory.
    throw std::runtime_error(std::string(name) + " failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string hmac_sha1(std::string_view key, std::string_view message) {
  return hmac(EVP_sha1(), "HMAC-SHA1", key, message);
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return hmac(EVP_sha256(), "HMAC-SHA256", key, message);
}

std::string hmac_sha512(std::string_view key, std::string_view message) {
  return hmac(EVP_sha512(), "HMAC-SHA512", key, message);
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool random_bytes(void* out, size_t size) {
  return RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(size)) == 1;
}

#endif

std::string base64_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned bits = 0;  // pending bits, most significant first
  int nbits = 0;      // how many of them
  int symbols = 0;    // base64 symbols and padding seen, for the length check
  int padding = 0;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    unsigned v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<unsigned>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<unsigned>(c - 'a' + 26);
    } else if (c >= '0' && c <= '9') {
      v = static_cast<unsigned>(c - '0' + 52);
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    } else {
      return std::nullopt;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    ++symbols;
    bits = (bits << 6) | v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out += static_cast<char>((bits >> nbits) & 0xff);
    }
  }
  // Whole quanta only, at most two padding characters, and no stray bits left set.
  if (symbols % 4 != 0 || padding > 2) return std::nullopt;
  if ((bits & ((1u << nbits) - 1)) != 0) return std::nullopt;
  if ((padding == 1 && nbits != 2) || (padding == 2 && nbits != 4) ||
      (padding == 0 && nbits != 0)) {
    return std::nullopt;
  }
  return out;
}

std::string hex_encode(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

}  // namespace ddnswatch
