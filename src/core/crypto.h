// The few cryptographic and encoding primitives that signed requests need (webhook bots now,
// the providers' API signatures), over OpenSSL's libcrypto, or Windows CNG on Windows.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ddnswatch {

/// Raw 20-byte HMAC-SHA1 of `message` keyed by `key` (Alibaba Cloud's RPC signature).
std::string hmac_sha1(std::string_view key, std::string_view message);
/// Raw 32-byte HMAC-SHA256 of `message` keyed by `key`.
std::string hmac_sha256(std::string_view key, std::string_view message);
/// Raw 64-byte HMAC-SHA512 of `message` keyed by `key`.
std::string hmac_sha512(std::string_view key, std::string_view message);
/// Raw 32-byte SHA-256.
std::string sha256(std::string_view data);

std::string base64_encode(std::string_view data);
/// Standard base64 (RFC 4648 alphabet, `=` padding required); ASCII whitespace is skipped, as
/// in keys copied from tsig-keygen's output. Nothing: not base64.
std::optional<std::string> base64_decode(std::string_view text);
/// Fills `out` with `size` bytes from the system's CSPRNG (OpenSSL's RAND_bytes; on Windows
/// BCryptGenRandom). False, and nothing to rely on in `out`, when it cannot.
bool random_bytes(void* out, size_t size);
/// Compares two MACs in time that depends only on their length, not on where they differ.
bool equal_constant_time(std::string_view a, std::string_view b);
std::string hex_encode(std::string_view data);  // lower case

/// Percent-encoding of everything except RFC 3986's unreserved characters (A-Z a-z 0-9 - _ . ~).
std::string percent_encode(std::string_view text);

}  // namespace ddnswatch
