/** Byte-level helpers of the main-log kernel: SIMD searches, hashing, comparing, allocation. */

export const SP: u32 = 0x20;
export const NL: u32 = 0x0a;
export const QUOTE: u32 = 0x22;
export const BACKSLASH: u32 = 0x5c;
export const LBRACKET: u32 = 0x5b;
export const RBRACKET: u32 = 0x5d;

/** Bytes readable past the end of any fed range (SIMD loads and 8-byte hashing read ahead). */
export const PAD: usize = 64;

// ---------------------------------------------------------------------------------------------
// Byte helpers

@inline export function byteAt(p: usize): u32 {
  return <u32>load<u8>(p);
}

@inline export function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

@inline export function isLetter(c: u32): bool {
  return (c | 0x20) - 0x61 < 26;
}

/**
 * Bit 7 of each byte of `v` set where that byte is zero, exactly (no false hits, so the lowest
 * set bit is the first zero byte). The scalar build (no SIMD: see the build script of the native
 * counter, scripts/build-native-counter.mjs) searches 8 bytes at a time with it.
 */
@inline function zeroBytes(v: u64): u64 {
  const low: u64 = 0x7f7f7f7f7f7f7f7f;
  return ~(((v & low) + low) | v | low);
}

@inline function splat8(c: u32): u64 {
  return <u64>(c & 0xff) * 0x0101010101010101;
}

/** First p in [p, e) holding byte c, else e. Reads up to 15 bytes past e (PAD). */
export function findByte(p: usize, e: usize, c: u8): usize {
  if (!ASC_FEATURE_SIMD) {
    const needle = splat8(c);
    while (p < e) {
      const m = zeroBytes(load<u64>(p) ^ needle);
      if (m != 0) {
        const at = p + <usize>(ctz(m) >> 3);
        return at < e ? at : e;
      }
      p += 8;
    }
    return e;
  }
  const needle = i8x16.splat(c);
  while (p < e) {
    const m = i8x16.bitmask(i8x16.eq(v128.load(p), needle));
    if (m != 0) {
      const at = p + <usize>ctz(m);
      return at < e ? at : e;
    }
    p += 16;
  }
  return e;
}

/**
 * Where the line holding p - 1 starts: after the last NL in [s, p), or s when there is none.
 * Reads only [s, p).
 */
export function lineStartBefore(s: usize, p: usize): usize {
  if (!ASC_FEATURE_SIMD) {
    const nl = splat8(NL);
    while (p >= s + 8) {
      const m = zeroBytes(load<u64>(p - 8) ^ nl);
      // The highest zero byte is the last NL (zeroBytes has no false hits).
      if (m != 0) return p - 8 + (7 - <usize>(clz(m) >> 3)) + 1;
      p -= 8;
    }
  } else {
    const needle = i8x16.splat(<i8>NL);
    while (p >= s + 16) {
      const m = i8x16.bitmask(i8x16.eq(v128.load(p - 16), needle));
      if (m != 0) return p - 16 + <usize>(31 - clz(m)) + 1;
      p -= 16;
    }
  }
  while (p > s && load<u8>(p - 1) != <u8>NL) p--;
  return p;
}

/** First p in [p, e) holding `"` or `\`, else e. */
export function findQuoteOrBackslash(p: usize, e: usize): usize {
  if (!ASC_FEATURE_SIMD) {
    const q8 = splat8(QUOTE);
    const b8 = splat8(BACKSLASH);
    while (p < e) {
      const v = load<u64>(p);
      const m = zeroBytes(v ^ q8) | zeroBytes(v ^ b8);
      if (m != 0) {
        const at = p + <usize>(ctz(m) >> 3);
        return at < e ? at : e;
      }
      p += 8;
    }
    return e;
  }
  const q = i8x16.splat(<i8>QUOTE);
  const b = i8x16.splat(<i8>BACKSLASH);
  while (p < e) {
    const v = v128.load(p);
    const m = i8x16.bitmask(v128.or(i8x16.eq(v, q), i8x16.eq(v, b)));
    if (m != 0) {
      const at = p + <usize>ctz(m);
      return at < e ? at : e;
    }
    p += 16;
  }
  return e;
}

/** Hash of [p, p + len), 8 bytes at a time. Reads up to 7 bytes past the key (PAD). */
@inline export function hashKey(p: usize, len: usize): u32 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>len;
  let i: usize = 0;
  while (i + 8 <= len) {
    h = (h ^ load<u64>(p + i)) * 0xff51afd7ed558ccd;
    h ^= h >> 32;
    i += 8;
  }
  if (i < len) {
    const v = load<u64>(p + i) & ((<u64>1 << (<u64>(len - i) << 3)) - 1);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53;
    h ^= h >> 29;
  }
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 32;
  return <u32>h;
}

/** Whether [a, a + len) and [b, b + len) hold the same bytes. Reads up to 7 bytes past both (PAD). */
@inline export function bytesEqual(a: usize, b: usize, len: usize): bool {
  let i: usize = 0;
  while (i + 8 <= len) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  if (i == len) return true;
  const mask = (<u64>1 << (<u64>(len - i) << 3)) - 1;
  return ((load<u64>(a + i) ^ load<u64>(b + i)) & mask) == 0;
}

/** Bit i set when byte i of the 16 at p is a digit. */
@inline export function digitMask(p: usize): u32 {
  if (!ASC_FEATURE_SIMD) {
    let m: u32 = 0;
    for (let i: u32 = 0; i < 16; i++) if (isDigit(byteAt(p + i))) m |= 1 << i;
    return m;
  }
  return <u32>i8x16.bitmask(i8x16.lt_u(i8x16.sub(v128.load(p), i8x16.splat(0x30)), i8x16.splat(10)));
}

/** Bit i set when byte i of the 16 at p is an ASCII letter or digit. */
@inline export function alnumMask(p: usize): u32 {
  if (!ASC_FEATURE_SIMD) {
    let m: u32 = 0;
    for (let i: u32 = 0; i < 16; i++) {
      const c = byteAt(p + i);
      if (isDigit(c) || isLetter(c)) m |= 1 << i;
    }
    return m;
  }
  const v = v128.load(p);
  const digit = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(10));
  const letter = i8x16.lt_u(i8x16.sub(v128.or(v, i8x16.splat(0x20)), i8x16.splat(0x61)), i8x16.splat(26));
  return <u32>i8x16.bitmask(v128.or(digit, letter));
}

export function zeroed(bytes: usize): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  return p;
}
