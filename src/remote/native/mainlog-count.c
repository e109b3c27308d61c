/*
 * The main-log counter run on an SSH target: the scanner's WebAssembly kernel
 * (src/parsers/wasm/mainlog-kernel.ts, built without SIMD and translated to C by wasm2c) driven
 * the way src/investigate/mainlog-file.ts drives it locally, printing the tables that the perl
 * counter prints (src/remote/mainlog-count.pl.ts), so src/remote/count-tables.ts reads both.
 * What it counts and sends is declared in src/parsers/count-registry.ts (counters.h, generated).
 * Built by scripts/build-native-counter.mjs into one static binary: nothing is installed on
 * the target, and the host's perl stays the fallback.
 *
 * Usage: mainlog-count [--unlink-self] FILE END FROM LIMITS (as the perl counter: FROM empty for no window,
 * `-` for a window with no timestamp to count back from; LIMITS `MAXKEYS:LIMIT:NESTED:MESSAGES`,
 * MESSAGES the messages remembered for joining deferrals and failures to their arrival).
 * Output, gzip: `start`, `late`, `before`, `first`, `last`, `total\tNAME\tN`,
 * `key\tTABLE\tID\tHEX\tCOUNT`, `pair\tRELATION\tPARENT\tCHILD\tCOUNT` (only what can reach
 * the result's lists, chosen as the perl counter's emit_tables chooses it).
 * Exit codes: 2 cannot open, 3 output failed, 4 read failed, 5 the kernel trapped.
 *
 * Or: mainlog-count [--unlink-self] --rotated FROM LIMITS REACH CURRENT PRED... (PRED newest
 * first, plain or gzip): the scan mode of the perl rotated driver (src/remote/rotated-count.pl.ts),
 * same arguments, output and exit 5 with `failed\tPATH\tERROR` for a file that breaks part-way.
 */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mainlog-kernel.h"
#include "wasm-rt-impl.h"

struct Z_env_instance_t {
  int unused;
};

/* Only reachable when the kernel's allocator cannot grow its memory any further. */
void Z_envZ_abort(struct Z_env_instance_t *env, u32 a, u32 b, u32 c, u32 d) {
  (void)env; (void)a; (void)b; (void)c; (void)d;
  fputs("main-log scanner ran out of memory\n", stderr);
  exit(5);
}

static Z_kernel_instance_t K;
static int fd = -1;

static uint8_t *mem(void) { return K.w2c_memory.data; }

/* Tables, relations and totals in the kernel's numbering, and what each is for: generated from
 * src/parsers/count-registry.ts when this is built (scripts/build-native-counter.mjs), so the
 * choice of what to send below walks the registry and names nothing itself. */
#include "counters.h"

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* timestampPrefixLength of src/parsers/mainlog-scan.ts on buf[s, e), never reading past e. */
static size_t timestamp_prefix(const uint8_t *b, size_t s, size_t e) {
#define AT(i) ((i) < e ? (int)b[i] : -1)
  if (e - s < 20) return 0;
  if (b[s + 4] != '-' || b[s + 7] != '-' || b[s + 10] != ' ' || b[s + 13] != ':' || b[s + 16] != ':') return 0;
  static const int digits[] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };
  for (size_t k = 0; k < sizeof digits / sizeof digits[0]; k++) if (!is_digit(b[s + digits[k]])) return 0;
  size_t p = s + 19;
  if (AT(p) == '.' && is_digit(AT(p + 1))) {
    p++;
    while (p < e && is_digit(b[p])) p++;
  }
  if (AT(p) == ' ' && (AT(p + 1) == '+' || AT(p + 1) == '-') && is_digit(AT(p + 2)) && is_digit(AT(p + 3)) &&
      is_digit(AT(p + 4)) && is_digit(AT(p + 5)) && p + 6 < e && b[p + 6] == ' ') p += 6;
  if (p >= e || b[p] != ' ') return 0;
  p++;
  if (AT(p) == '[' && is_digit(AT(p + 1))) {
    size_t q = p + 1;
    while (q < e && is_digit(b[q])) q++;
    if (AT(q) == ']' && q + 1 < e && b[q + 1] == ' ') p = q + 2;
  }
  return p - s;
#undef AT
}

static void read_failed(void) {
  fprintf(stderr, "read failed: %s\n", strerror(errno));
  exit(4);
}

static size_t pread_full(uint8_t *buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      read_failed();
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return got;
}

/* ------------------------------------------------------------------------------------------
 * Entering the window (offsetForTime in src/investigate/mainlog-file.ts) */

#define PROBE 16384

/* The first line starting at or after `offset` that begins with a timestamp: 1 with its start
 * and first 19 bytes, else 0. Lines longer than the probe are read on from where they stand. */
static int first_timestamped_line(uint64_t offset, uint64_t end, uint64_t *line_start, char ts[20]) {
  static uint8_t buf[PROBE];
  uint64_t pos = offset == 0 ? 0 : offset - 1;
  int at_line_start = offset == 0;
  uint64_t scanned = 0;
  while (pos < end && scanned < 4 * 1024 * 1024) {
    size_t want = end - pos < PROBE ? (size_t)(end - pos) : PROBE;
    size_t got = pread_full(buf, want, pos);
    if (got == 0) return 0;
    size_t i = 0;
    if (!at_line_start) {
      uint8_t *nl = memchr(buf, '\n', got);
      if (nl == NULL) {
        pos += got;
        scanned += got;
        continue;
      }
      i = (size_t)(nl - buf) + 1;
      at_line_start = 1;
    }
    while (i < got) {
      uint8_t *nl = memchr(buf + i, '\n', got - i);
      if (nl == NULL && got == PROBE && i > 0) break; /* re-read this line from its start */
      size_t e = nl == NULL ? got : (size_t)(nl - buf);
      if (timestamp_prefix(buf, i, e) > 0) {
        *line_start = pos + i;
        memcpy(ts, buf + i, 19);
        ts[19] = 0;
        return 1;
      }
      if (nl == NULL) {
        i = got;
        at_line_start = 0;
        break;
      }
      i = e + 1;
    }
    pos += i;
    scanned += i;
  }
  return 0;
}

static uint64_t offset_for_time(const char *from, uint64_t end) {
  uint64_t lo = 0, hi = end, best = end;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    uint64_t at;
    char ts[20];
    int found = first_timestamped_line(mid, end, &at, ts);
    if (!found || strcmp(ts, from) >= 0) {
      if (found && at < best) best = at;
      hi = mid;
    } else {
      lo = at + 1;
    }
  }
  return best;
}

/* ------------------------------------------------------------------------------------------
 * Reading a range into the kernel's input area (readLines in src/investigate/mainlog-file.ts) */

static char first_time[20], last_time[20];

/* First and last timestamps of what is fed (MainlogScanner's #bounds). */
static void bounds(const uint8_t *b, size_t start, size_t end) {
  if (first_time[0] == 0) {
    size_t s = start;
    while (s < end) {
      const uint8_t *nl = memchr(b + s, '\n', end - s);
      size_t e = nl == NULL ? end : (size_t)(nl - b);
      if (timestamp_prefix(b, s, e) > 0) {
        memcpy(first_time, b + s, 19);
        break;
      }
      s = e + 1;
    }
  }
  size_t e = end;
  while (e > start) {
    size_t line_end = b[e - 1] == '\n' ? e - 1 : e;
    size_t s = line_end;
    while (s > start && b[s - 1] != '\n') s--;
    if (timestamp_prefix(b, s, line_end) > 0) {
      memcpy(last_time, b + s, 19);
      return;
    }
    if (s == start) return;
    e = s;
  }
}

enum { FEED, COUNT_IN_WINDOW };

/* The kernel's input area doubles for a line longer than it holds. A line of 256 MiB is no main
 * log line (a message to ten thousand recipients logs a few hundred KiB): the file fails, saying
 * so, before the kernel's memory runs out or its 32-bit sizes could wrap. */
#define MAX_INPUT ((size_t)256 << 20)

/* Complete lines of [start, end) handed to the kernel a chunk at a time; returns lines counted
 * in the window for COUNT_IN_WINDOW. */
static double read_range(uint64_t start, uint64_t end, int what) {
  size_t size = 4 * 1024 * 1024;
  size_t carry = 0;
  uint64_t pos = start;
  double n = 0;
  while (pos < end) {
    if (carry == size) {
      if (size >= MAX_INPUT) {
        fprintf(stderr, "a line longer than 256 MiB before byte %llu: not a main log\n", (unsigned long long)pos);
        exit(4);
      }
      size *= 2;
    }
    u32 input = Z_kernelZ_inputBuffer(&K, (u32)size);
    size_t want = size - carry;
    if (end - pos < want) want = (size_t)(end - pos);
    size_t got = pread_full(mem() + input + carry, want, pos);
    if (got == 0) {
      fprintf(stderr, "the main log ended after %llu of %llu bytes (rotated or truncated meanwhile?)\n",
              (unsigned long long)(pos - start), (unsigned long long)(end - start));
      exit(4);
    }
    pos += got;
    size_t filled = carry + got;
    uint8_t *b = mem() + input;
    size_t last = filled;
    if (pos < end) {
      last = 0;
      for (size_t k = filled; k > 0; k--) if (b[k - 1] == '\n') { last = k; break; }
    }
    if (last > 0) {
      if (what == FEED) {
        bounds(b, 0, last);
        Z_kernelZ_feed(&K, 0, (u32)last);
      } else {
        n += Z_kernelZ_countInWindow(&K, 0, (u32)last);
      }
    }
    carry = filled - last;
    if (carry > 0 && last > 0) memmove(mem() + input, mem() + input + last, carry);
  }
  if (carry > 0) {
    u32 input = Z_kernelZ_inputBuffer(&K, (u32)size);
    if (what == FEED) {
      bounds(mem() + input, 0, carry);
      Z_kernelZ_feed(&K, 0, (u32)carry);
    } else {
      n += Z_kernelZ_countInWindow(&K, 0, (u32)carry);
    }
  }
  return n;
}

/* ------------------------------------------------------------------------------------------
 * A rotated set read as one log (the scan mode of src/remote/rotated-count.pl.ts) */

/* One file of the set, plain or gzip (by its first two bytes, as the perl driver tells them).
 * gzip is read member by member with inflate() (each member's CRC and size checked), so that
 * where the gzip data ends is known: bytes after the last member that are no gzip data
 * (trailing garbage) are not read and counted in `garbage` (zero padding is ignored), as the
 * perl driver and node read them. */
typedef struct {
  const char *path;
  int fd;
  int gz;
  z_stream z;
  int in_member, members, eof, done;
  uint8_t *in;
  uint64_t garbage;
} Source;

#define GZ_IN (256 * 1024)

/* The perl driver's clean(): runs of tabs and newlines as one space, no trailing space. */
static void say_clean(FILE *f, const char *text) {
  size_t n = strlen(text);
  char *t = malloc(n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (text[i] == '\r' || text[i] == '\n' || text[i] == '\t') {
      if (k == 0 || t[k - 1] != '\x01') t[k++] = '\x01';
    } else {
      t[k++] = text[i];
    }
  }
  for (size_t i = 0; i < k; i++) if (t[i] == '\x01') t[i] = ' ';
  while (k > 0 && t[k - 1] == ' ') k--;
  fwrite(t, 1, k, f);
  free(t);
}

static int source_open(Source *s, const char *path, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->path = path;
  s->fd = open(path, O_RDONLY);
  if (s->fd < 0) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return 0;
  }
  struct stat st;
  if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: is a directory", path);
    close(s->fd);
    return 0;
  }
  uint8_t magic[2];
  ssize_t n;
  do n = pread(s->fd, magic, 2, 0); while (n < 0 && errno == EINTR);
  if (n < 0) {
    snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    close(s->fd);
    return 0;
  }
  if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    s->gz = 1;
    s->in = malloc(GZ_IN);
    if (s->in == NULL) {
      snprintf(err, errlen, "%s: cannot read: out of memory", path);
      close(s->fd);
      return 0;
    }
  }
  return 1;
}

/* Tops up the compressed input (kept at the start of `in`): -1 on a read error. */
static int source_fill(Source *s, char *err, size_t errlen) {
  if (s->eof || s->z.avail_in >= GZ_IN / 4) return 0;
  if (s->z.avail_in > 0 && s->z.next_in != s->in) memmove(s->in, s->z.next_in, s->z.avail_in);
  s->z.next_in = s->in;
  while (1) {
    ssize_t r = read(s->fd, s->in + s->z.avail_in, GZ_IN - s->z.avail_in);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(err, errlen, "%s: cannot read: %s", s->path, strerror(errno));
      return -1;
    }
    if (r == 0) s->eof = 1;
    s->z.avail_in += (uInt)r;
    return 0;
  }
}

static ssize_t gz_failed(Source *s, const char *why, char *err, size_t errlen) {
  snprintf(err, errlen, "%s: corrupt or truncated gzip data (%s)", s->path, why);
  return -1;
}

/* Up to n bytes (0 at the end), or -1 with the reason; concatenated gzip members are one stream. */
static ssize_t source_read(Source *s, uint8_t *buf, size_t n, char *err, size_t errlen) {
  if (n > (1u << 30)) n = 1u << 30;
  if (!s->gz) {
    while (1) {
      ssize_t r = read(s->fd, buf, n);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      snprintf(err, errlen, "%s: cannot read: %s", s->path, strerror(errno));
      return -1;
    }
  }
  while (!s->done) {
    if (source_fill(s, err, errlen) < 0) return -1;
    if (!s->in_member) {
      /* Between members: another one, the end, or bytes that are no gzip data. */
      if (s->z.avail_in < 2 && !s->eof) continue;
      if (s->z.avail_in == 0) {
        s->done = 1;
        break;
      }
      if (s->z.avail_in < 2 || s->z.next_in[0] != 0x1f || s->z.next_in[1] != 0x8b) {
        if (s->members == 0) return gz_failed(s, "incorrect header check", err, errlen);
        uint64_t rest = 0;
        int zeros = 1;
        while (1) {
          for (uInt i = 0; i < s->z.avail_in; i++) if (s->z.next_in[i] != 0) zeros = 0;
          rest += s->z.avail_in;
          s->z.avail_in = 0;
          if (s->eof) break;
          if (source_fill(s, err, errlen) < 0) return -1;
        }
        if (!zeros) s->garbage = rest;
        s->done = 1;
        break;
      }
      if (s->members > 0 ? inflateReset2(&s->z, 16 + MAX_WBITS) != Z_OK : inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "%s: cannot read: out of memory", s->path);
        return -1;
      }
      s->in_member = 1;
      s->members++;
    }
    s->z.next_out = buf;
    s->z.avail_out = (uInt)n;
    int r = inflate(&s->z, Z_NO_FLUSH);
    size_t made = n - s->z.avail_out;
    if (r == Z_STREAM_END) s->in_member = 0;
    else if (r == Z_BUF_ERROR || (r == Z_OK && made == 0)) {
      /* More input wanted: at the end of the file, the gzip data was cut short. */
      if (s->eof && s->z.avail_in == 0) return gz_failed(s, "unexpected end of file", err, errlen);
    } else if (r != Z_OK) {
      return gz_failed(s, s->z.msg != NULL ? s->z.msg : "data error", err, errlen);
    }
    if (made > 0) return (ssize_t)made;
  }
  return 0;
}

static void source_close(Source *s) {
  if (s->gz) {
    if (s->members > 0) inflateEnd(&s->z);
    free(s->in);
  }
  close(s->fd);
}

/* The first timestamp of a file within its first 4 MiB of lines (first_ts of the perl driver):
 * 1 with it in ts, 0 when none, -1 when the file cannot be read (reason in err). */
static int source_first_ts(const char *path, char ts[20], char *err, size_t errlen) {
  Source s;
  if (!source_open(&s, path, err, errlen)) return -1;
  static uint8_t chunk[64 * 1024];
  /* The start of the current line: enough to tell a timestamp. */
  static uint8_t head[4096];
  size_t head_len = 0;
  uint64_t line_len = 0, seen = 0;
  int found = 0, done = 0;
  while (!found && !done) {
    ssize_t n = source_read(&s, chunk, sizeof chunk, err, errlen);
    if (n < 0) {
      source_close(&s);
      return -1;
    }
    if (n == 0) {
      if (line_len > 0 && timestamp_prefix(head, 0, head_len) > 0) found = 1;
      break;
    }
    size_t i = 0;
    while (i < (size_t)n) {
      uint8_t *nl = memchr(chunk + i, '\n', (size_t)n - i);
      size_t e = nl == NULL ? (size_t)n : (size_t)(nl - chunk);
      size_t take = e - i < sizeof head - head_len ? e - i : sizeof head - head_len;
      memcpy(head + head_len, chunk + i, take);
      head_len += take;
      line_len += e - i;
      if (nl == NULL) break;
      line_len++;
      if (timestamp_prefix(head, 0, head_len) > 0) { found = 1; break; }
      seen += line_len;
      head_len = 0;
      line_len = 0;
      if (seen > 4 * 1024 * 1024) { done = 1; break; }
      i = e + 1;
    }
  }
  source_close(&s);
  if (found) {
    memcpy(ts, head, 19);
    ts[19] = 0;
  }
  return found;
}

static void failed(const char *path, const char *err) {
  fprintf(stderr, "failed\t%s\t", path);
  say_clean(stderr, err);
  fputc('\n', stderr);
  exit(5);
}

/* Where the window opens over the files read (the first line dated at or after FROM), and the
 * uncompressed offset reached. */
static int started;
static uint64_t rotated_start, rotated_pos;
/* The first timestamp of the file being read, looked for until the window opens. */
static char file_first[20];

/* Complete lines b[0, end) of the input area: skipped until the window opens, then fed. */
static void rotated_lines(uint8_t *b, const char *from19, size_t end) {
  size_t s = 0;
  if (!started) {
    while (s < end) {
      const uint8_t *nl = memchr(b + s, '\n', end - s);
      size_t e = nl == NULL ? end : (size_t)(nl - b);
      if (file_first[0] == 0 && timestamp_prefix(b, s, e) > 0) {
        memcpy(file_first, b + s, 19);
        file_first[19] = 0;
      }
      if (e - s >= 19 && memcmp(b + s, from19, 19) >= 0 && timestamp_prefix(b, s, e) > 0) {
        started = 1;
        rotated_start = rotated_pos + s;
        break;
      }
      s = nl == NULL ? end : e + 1;
    }
  }
  if (started && s < end) {
    bounds(b, s, end);
    Z_kernelZ_feed(&K, (u32)s, (u32)end);
  }
  rotated_pos += end;
}

/* One file of the set, streamed through the kernel's input area a chunk at a time. */
static void rotated_file(const char *path, const char *from19) {
  char err[1024];
  Source s;
  if (!source_open(&s, path, err, sizeof err)) failed(path, err);
  file_first[0] = 0;
  size_t size = 4 * 1024 * 1024;
  size_t carry = 0;
  while (1) {
    if (carry == size) {
      if (size >= MAX_INPUT) failed(path, "a line longer than 256 MiB: not a main log");
      size *= 2;
    }
    u32 input = Z_kernelZ_inputBuffer(&K, (u32)size);
    ssize_t n = source_read(&s, mem() + input + carry, size - carry, err, sizeof err);
    if (n < 0) failed(path, err);
    if (n == 0) break;
    size_t filled = carry + (size_t)n;
    uint8_t *b = mem() + input;
    size_t last = 0;
    for (size_t k = filled; k > carry; k--) if (b[k - 1] == '\n') { last = k; break; }
    if (last == 0) {
      carry = filled;
      continue;
    }
    rotated_lines(b, from19, last);
    carry = filled - last;
    if (carry > 0) memmove(mem() + input, mem() + input + last, carry);
  }
  /* A last line without a newline ends with its file, as perl's readline ends it. */
  if (carry > 0) rotated_lines(mem() + Z_kernelZ_inputBuffer(&K, (u32)size), from19, carry);
  uint64_t garbage = s.garbage;
  source_close(&s);
  /* Where it ends, its first timestamp before the window opened, and the bytes after its gzip
   * data that are no gzip data (see the perl driver). */
  fprintf(stderr, "file\t%llu\t%s\t%llu\n", (unsigned long long)rotated_pos, file_first, (unsigned long long)garbage);
}

/* `--rotated FROM LIMITS REACH CURRENT PRED...`, PRED newest first: the scan mode of the perl
 * driver. The walk goes through at least the first REACH predecessors (their last write is in
 * the window: see src/investigate/rotated-logs.ts), then on until one starts before FROM. */
static void rotated(int n, char **files_arg, const char *from, unsigned long reach) {
  char from19[20];
  size_t fl = strlen(from);
  for (size_t i = 0; i < 19; i++) from19[i] = i < fl ? from[i] : '0';
  from19[19] = 0;
  const char *current = files_arg[0];
  const char **files = malloc(((size_t)n + 1) * sizeof *files);
  char (*first)[20] = malloc(((size_t)n + 1) * sizeof *first);
  int chosen = 0;
  /* The header: unreadable rotations, then the files read, then an empty line. */
  char *header = NULL;
  size_t header_len = 0;
  FILE *h = open_memstream(&header, &header_len);
  for (int i = 1; i < n; i++) {
    if ((unsigned long)(i - 1) >= reach && chosen > 0 && strcmp(first[chosen - 1], from) < 0) break;
    char err[1024];
    char ts[20];
    int r = source_first_ts(files_arg[i], ts, err, sizeof err);
    if (r < 0) {
      fprintf(h, "unreadable\t%s\t", files_arg[i]);
      say_clean(h, err);
      fputc('\n', h);
      continue;
    }
    if (r == 0) continue;
    files[chosen] = files_arg[i];
    memcpy(first[chosen], ts, 20);
    chosen++;
  }
  for (int i = chosen - 1; i >= 0; i--) fprintf(h, "read\t%s\n", files[i]);
  fprintf(h, "read\t%s\n\n", current);
  if (fclose(h) != 0) {
    fputs("output failed\n", stderr);
    exit(3);
  }
  /* Before any file is streamed, so that it is there even when one fails. */
  for (size_t done = 0; done < header_len;) {
    ssize_t w = write(STDOUT_FILENO, header + done, header_len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fputs("output failed\n", stderr);
      exit(3);
    }
    done += (size_t)w;
  }
  free(header);

  u32 at = Z_kernelZ_alloc(&K, 32);
  memcpy(mem() + at, from19, 19);
  Z_kernelZ_setWindow(&K, at);
  Z_kernelZ_release(&K, at);
  for (int i = chosen - 1; i >= 0; i--) rotated_file(files[i], from19);
  rotated_file(current, from19);
  if (!started) rotated_start = rotated_pos;
  /* The window is known only at the end: it follows on stderr. */
  fprintf(stderr, "window\t%llu\t%llu\n", (unsigned long long)rotated_start, (unsigned long long)rotated_pos);
  free(files);
  free(first);
}

/* ------------------------------------------------------------------------------------------
 * Choosing what to send (emit_tables in src/remote/mainlog-count.pl.ts), by the registry's specs */

static gzFile out;

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void put(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line || gzwrite(out, line, (unsigned)n) != n) {
    fputs("output failed\n", stderr);
    exit(3);
  }
}

static u32 table_size[TABLES];

static const uint8_t *key_bytes(int t, u32 id, u32 *len) {
  const uint8_t *keys = mem() + Z_kernelZ_tableKeys(&K, (u32)t) + (size_t)id * 8;
  u32 off, l;
  memcpy(&off, keys, 4);
  memcpy(&l, keys + 4, 4);
  *len = l;
  return mem() + Z_kernelZ_tableArena(&K, (u32)t) + off;
}

static double key_count(int t, u32 id) {
  double c;
  memcpy(&c, mem() + Z_kernelZ_tableCounts(&K, (u32)t) + (size_t)id * 8, 8);
  return c;
}

/* Whether the key may decode to the same string as another (see may_merge in the perl counter). */
static int may_merge(int t, u32 id, int subjects) {
  u32 len;
  const uint8_t *k = key_bytes(t, id, &len);
  for (u32 i = 0; i < len; i++) if (k[i] >= 0x80 || (subjects && k[i] == '\\')) return 1;
  return 0;
}

static int by_count_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Marks in keep[i] which of the n entries (ids[i] of table t, counted counts[i]) can be among
 * the top `limit` once decoded: all when few, else those that may merge and those counted at
 * least the limit-th largest count of the others. */
static void rankable(const u32 *ids, const double *counts, size_t n, int t, u32 limit, int subjects, uint8_t *keep) {
  /* A limit of 0 keeps everything, as perl's threshold (the smallest count) does. */
  if (n <= limit || limit == 0) { memset(keep, 1, n); return; }
  double *plain = malloc(n * sizeof *plain);
  uint8_t *merges = malloc(n);
  size_t np = 0;
  for (size_t i = 0; i < n; i++) {
    merges[i] = (uint8_t)may_merge(t, ids[i], subjects);
    if (!merges[i]) plain[np++] = counts[i];
  }
  if (np <= limit) {
    memset(keep, 1, n);
  } else {
    qsort(plain, np, sizeof *plain, by_count_desc);
    double threshold = plain[limit - 1];
    for (size_t i = 0; i < n; i++) keep[i] = merges[i] || counts[i] >= threshold;
  }
  free(plain);
  free(merges);
}

/* The pairs of one kernel relation whose parent is marked in `kept`, grouped by parent. */
typedef struct {
  u32 parents;
  u32 *start;   /* children of p at [start[p], start[p + 1]) */
  u32 *child;
  double *count;
} Pairs;

static Pairs gather(int relation, u32 parents, const uint8_t *kept) {
  Pairs r = { parents, calloc((size_t)parents + 1, sizeof(u32)), NULL, NULL };
  u32 kept_at = Z_kernelZ_alloc(&K, parents);
  memcpy(mem() + kept_at, kept, parents);
  u32 out_at = Z_kernelZ_alloc(&K, Z_kernelZ_pairSize(&K, (u32)relation) * 16);
  u32 n = Z_kernelZ_gatherPairs(&K, (u32)relation, kept_at, out_at);
  r.child = malloc(((size_t)n + 1) * sizeof(u32));
  r.count = malloc(((size_t)n + 1) * sizeof(double));
  u32 spills = Z_kernelZ_spillLength(&K);
  u32 spill_at = Z_kernelZ_spillList(&K);
  u32 *fill = calloc((size_t)parents + 1, sizeof(u32));
  for (u32 k = 0; k < n; k++) {
    u32 p;
    memcpy(&p, mem() + out_at + (size_t)k * 16, 4);
    r.start[p + 1]++;
  }
  for (u32 p = 0; p < parents; p++) r.start[p + 1] += r.start[p];
  memcpy(fill, r.start, (size_t)parents * sizeof(u32));
  for (u32 k = 0; k < n; k++) {
    const uint8_t *at = mem() + out_at + (size_t)k * 16;
    u32 p, c;
    double count;
    memcpy(&p, at, 4);
    memcpy(&c, at + 4, 4);
    memcpy(&count, at + 8, 8);
    /* Counts of very frequent pairs spilled past the slot (see pair-table.ts). */
    uint64_t tagged = ((uint64_t)relation << 40) | (((uint64_t)p + 1) << 18) | c;
    for (u32 s = 0; s < spills; s++) {
      uint64_t key;
      double extra;
      memcpy(&key, mem() + spill_at + (size_t)s * 16, 8);
      memcpy(&extra, mem() + spill_at + (size_t)s * 16 + 8, 8);
      if (key == tagged) count += extra;
    }
    u32 i = fill[p]++;
    r.child[i] = c;
    r.count[i] = count;
  }
  free(fill);
  Z_kernelZ_release(&K, out_at);
  Z_kernelZ_release(&K, kept_at);
  return r;
}

static void free_pairs(Pairs *r) {
  free(r->start);
  free(r->child);
  free(r->count);
}

static uint8_t *send[TABLES];
static uint8_t *kept[TABLES];
static u32 limit = 50, nested_limit = 10;

/* Children of one parent, with the same child from two sources added up. */
typedef struct {
  size_t n, cap;
  u32 *child;
  double *count;
  /* Per child id: its index in child[] plus one, 0 when absent (cleared after each parent). */
  u32 *slot;
} Children;

static void add_child(Children *c, u32 child, double count) {
  u32 k = c->slot[child];
  if (k != 0) {
    c->count[k - 1] += count;
    return;
  }
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 16;
    c->child = realloc(c->child, c->cap * sizeof(u32));
    c->count = realloc(c->count, c->cap * sizeof(double));
  }
  c->child[c->n] = child;
  c->count[c->n++] = count;
  c->slot[child] = (u32)c->n;
}

static void add_children(Children *c, const Pairs *r, u32 parent) {
  if (parent >= r->parents) return;
  for (u32 i = r->start[parent]; i < r->start[parent + 1]; i++) add_child(c, r->child[i], r->count[i]);
}

/* Pair lines of one relation of the perl counter: `a` (plus `b`, by `b_parent_of`, when set). */
static void emit_relation(const char *name, int parent_t, int child_t, const Pairs *a, const Pairs *b, const int32_t *b_parent_of,
                          int all_children, int subjects_parent) {
  Children c = { 0, 0, NULL, NULL, calloc((size_t)table_size[child_t] + 1, sizeof(u32)) };
  uint8_t *keep = NULL;
  for (u32 p = 0; p < table_size[parent_t]; p++) {
    if (!kept[parent_t][p]) continue;
    for (size_t i = 0; i < c.n; i++) c.slot[c.child[i]] = 0;
    c.n = 0;
    if (a != NULL) add_children(&c, a, p);
    if (b != NULL) {
      int32_t q = b_parent_of == NULL ? (int32_t)p : b_parent_of[p];
      if (q >= 0) add_children(&c, b, (u32)q);
    }
    if (c.n == 0) continue;
    keep = realloc(keep, c.n);
    if (all_children || may_merge(parent_t, p, subjects_parent)) memset(keep, 1, c.n);
    else rankable(c.child, c.count, c.n, child_t, nested_limit, 0, keep);
    for (size_t i = 0; i < c.n; i++) {
      if (!keep[i]) continue;
      put("pair\t%s\t%u\t%u\t%.0f\n", name, p, c.child[i], c.count[i]);
      send[child_t][c.child[i]] = 1;
    }
  }
  free(c.child);
  free(c.count);
  free(c.slot);
  free(keep);
}

/* Marks the parents of `into` (allocated on first use, `n` of them) that `marks` marks. */
static void want(uint8_t **into, u32 *size, u32 n, const uint8_t *marks) {
  if (*into == NULL) {
    *into = calloc((size_t)n + 1, 1);
    *size = n;
  }
  for (u32 i = 0; i < n; i++) if (marks[i]) (*into)[i] = 1;
}

static void emit_tables(uint64_t start, double late) {
  for (int t = 0; t < TABLES; t++) {
    table_size[t] = Z_kernelZ_tableSize(&K, (u32)t);
    send[t] = calloc((size_t)table_size[t] + 1, 1);
    kept[t] = calloc((size_t)table_size[t] + 1, 1);
  }
  /* Keys that can reach a list. */
  for (int t = 0; t < TABLES; t++) {
    if (!TABLE_SPECS[t].ranked) continue;
    u32 n = table_size[t];
    u32 *ids = malloc(((size_t)n + 1) * sizeof(u32));
    double *counts = malloc(((size_t)n + 1) * sizeof(double));
    for (u32 id = 0; id < n; id++) {
      ids[id] = id;
      counts[id] = key_count(t, id);
    }
    rankable(ids, counts, n, t, limit, TABLE_SPECS[t].subjects, kept[t]);
    memcpy(send[t], kept[t], n);
    free(ids);
    free(counts);
  }
  /* Keys that can rank by a counter (the most failing senders) are kept too, whatever their volume. */
  for (int t = 0; t < TABLES; t++) {
    int of = TABLE_SPECS[t].of;
    if (!TABLE_SPECS[t].ranks || of < 0) continue;
    for (u32 id = 0; id < table_size[t]; id++) {
      if (!kept[t][id]) continue;
      int32_t s = (int32_t)Z_kernelZ_findKeyOf(&K, (u32)of, (u32)t, id);
      if (s >= 0) kept[of][s] = send[of][s] = 1;
    }
  }
  /* The counters of the kept keys (of senders and AUTH ids). */
  for (int t = 0; t < TABLES; t++) {
    int of = TABLE_SPECS[t].of;
    if (of < 0) continue;
    for (u32 id = 0; id < table_size[t]; id++) {
      int32_t k = (int32_t)Z_kernelZ_findKeyOf(&K, (u32)of, (u32)t, id);
      if (k >= 0 && kept[of][k]) send[t][id] = 1;
    }
  }

  /* The kernel relations each relation sent reads: its own, plus one whose parent is the key of
   * the same bytes in another table (a sender's addresses are its sender_ips plus the self pairs
   * of the AUTH id of its name). Each kernel relation is gathered once, for all parents wanted. */
  uint8_t *wanted[KERNEL_RELATIONS] = { 0 };
  u32 wanted_size[KERNEL_RELATIONS] = { 0 };
  int32_t *via[WIRE_RELATIONS] = { 0 };
  for (int w = 0; w < WIRE_RELATIONS; w++) {
    const RelationSpec *r = &RELATION_SPECS[w];
    want(&wanted[r->relation], &wanted_size[r->relation], table_size[r->parent], kept[r->parent]);
    if (r->plus < 0) continue;
    if (r->via == r->parent) {
      want(&wanted[r->plus], &wanted_size[r->plus], table_size[r->via], kept[r->parent]);
      continue;
    }
    u32 n = table_size[r->parent];
    uint8_t *marks = calloc((size_t)table_size[r->via] + 1, 1);
    via[w] = malloc(((size_t)n + 1) * sizeof(int32_t));
    for (u32 p = 0; p < n; p++) {
      via[w][p] = -1;
      if (!kept[r->parent][p]) continue;
      via[w][p] = (int32_t)Z_kernelZ_findKeyOf(&K, (u32)r->via, (u32)r->parent, p);
      if (via[w][p] >= 0) marks[via[w][p]] = 1;
    }
    want(&wanted[r->plus], &wanted_size[r->plus], table_size[r->via], marks);
    free(marks);
  }
  Pairs gathered[KERNEL_RELATIONS];
  for (int k = 0; k < KERNEL_RELATIONS; k++) if (wanted[k] != NULL) gathered[k] = gather(k, wanted_size[k], wanted[k]);

  /* Pairs dropped at the cap, as MainlogScanner's partial adds them: once per relation sent
   * that reads them (the self pairs twice: missing from both lists). */
  double dropped = Z_kernelZ_total(&K, TOT_DROPPED);
  for (int w = 0; w < WIRE_RELATIONS; w++) {
    dropped += Z_kernelZ_pairDropped(&K, (u32)RELATION_SPECS[w].relation);
    if (RELATION_SPECS[w].plus >= 0) dropped += Z_kernelZ_pairDropped(&K, (u32)RELATION_SPECS[w].plus);
  }

  put("start\t%llu\nlate\t%.0f\nfirst\t%s\nlast\t%s\n", (unsigned long long)start, late, first_time, last_time);
  for (int i = 0; i < TOTALS; i++) if (TOTAL_HEADERS[i] != NULL) put("%s\t%.0f\n", TOTAL_HEADERS[i], Z_kernelZ_total(&K, (u32)i));
  /* In the perl counter's order (sorted names). */
  for (int k = 0; TOTAL_ORDER[k] >= 0; k++) {
    int i = TOTAL_ORDER[k];
    put("total\t%s\t%.0f\n", TOTAL_NAMES[i], i == TOT_DROPPED ? dropped : Z_kernelZ_total(&K, (u32)i));
  }

  /* Pairs before keys: a pair marks the child keys to send, and the reader takes any order. */
  for (int w = 0; w < WIRE_RELATIONS; w++) {
    const RelationSpec *r = &RELATION_SPECS[w];
    emit_relation(r->name, r->parent, r->child, &gathered[r->relation], r->plus < 0 ? NULL : &gathered[r->plus], via[w],
                  r->all_children, TABLE_SPECS[r->parent].subjects);
    free(via[w]);
  }

  for (int t = 0; t < TABLES; t++) {
    for (u32 id = 0; id < table_size[t]; id++) {
      if (!send[t][id]) continue;
      u32 len;
      const uint8_t *k = key_bytes(t, id, &len);
      char head[64];
      int hn = snprintf(head, sizeof head, "key\t%s\t%u\t", TABLE_SPECS[t].name, id);
      char *hex = malloc((size_t)len * 2 + 1);
      static const char digits[] = "0123456789abcdef";
      for (u32 i = 0; i < len; i++) {
        hex[i * 2] = digits[k[i] >> 4];
        hex[i * 2 + 1] = digits[k[i] & 15];
      }
      if (gzwrite(out, head, (unsigned)hn) != hn || (len > 0 && gzwrite(out, hex, len * 2) != (int)(len * 2))) {
        fputs("output failed\n", stderr);
        exit(3);
      }
      free(hex);
      put("\t%.0f\n", key_count(t, id));
    }
  }
  for (int k = 0; k < KERNEL_RELATIONS; k++) {
    if (wanted[k] == NULL) continue;
    free_pairs(&gathered[k]);
    free(wanted[k]);
  }
}

int main(int argc, char **argv) {
  /* Run from the private directory it was uploaded to: the file and the directory go now, so
   * nothing is left behind even if this process is killed (Linux keeps a running file). */
  if (argc > 1 && strcmp(argv[1], "--unlink-self") == 0) {
    char *slash = strrchr(argv[0], '/');
    if (slash != NULL && slash != argv[0]) {
      unlink(argv[0]);
      *slash = 0;
      rmdir(argv[0]);
      *slash = '/';
    }
    argv++;
    argc--;
  }
  /* `--rotated FROM LIMITS REACH CURRENT PRED...`: a rotated set (see rotated() above). */
  int rotated_set = argc > 1 && strcmp(argv[1], "--rotated") == 0;
  if (rotated_set ? argc < 6 : argc < 2) {
    fputs("usage: mainlog-count FILE [END [FROM [MAXKEYS:LIMIT:NESTED:MESSAGES]]]\n"
          "       mainlog-count --rotated FROM MAXKEYS:LIMIT:NESTED:MESSAGES REACH CURRENT [PRED...]\n", stderr);
    return 1;
  }
  const char *file = rotated_set ? argv[5] : argv[1];
  const char *end_arg = rotated_set ? "" : argc > 2 ? argv[2] : "";
  const char *from = rotated_set ? argv[2] : argc > 3 ? argv[3] : "";
  const char *limits = rotated_set ? argv[3] : argc > 4 ? argv[4] : "";

  uint64_t end = 0;
  if (!rotated_set) {
    fd = open(file, O_RDONLY);
    if (fd < 0) {
      fprintf(stderr, "cannot open %s: %s\n", file, strerror(errno));
      return 2;
    }
    if (end_arg[0] != 0) {
      end = strtoull(end_arg, NULL, 10);
    } else {
      struct stat st;
      if (fstat(fd, &st) != 0) read_failed();
      end = (uint64_t)st.st_size;
    }
  }
  unsigned long max_keys = 200000;
  /* Messages remembered for joining: DEFAULT_MAX_MESSAGES of src/parsers/mainlog-scan.ts. */
  unsigned long max_messages = 262144;
  {
    unsigned long v[4] = { max_keys, limit, nested_limit, max_messages };
    const char *p = limits;
    for (int i = 0; i < 4 && *p; i++) {
      char *stop;
      unsigned long x = strtoul(p, &stop, 10);
      if (stop != p && (*stop == ':' || *stop == 0)) v[i] = x;
      p = *stop == ':' ? stop + 1 : stop + strlen(stop);
    }
    max_keys = v[0] > 262143 ? 262143 : v[0];
    limit = (u32)v[1];
    nested_limit = (u32)v[2];
    max_messages = v[3] > 2147483647ul ? 2147483647ul : v[3];
  }

  wasm_rt_init();
  Z_kernel_init_module();
  static struct Z_env_instance_t env;
  if (wasm_rt_impl_try() != 0) {
    fputs("main-log scanner trapped\n", stderr);
    return 5;
  }
  Z_kernel_instantiate(&K, &env);
  Z_kernelZ_init(&K, (u32)max_keys, 4000000);
  Z_kernelZ_setJoinCap(&K, (u32)max_messages);

  int window = from[0] != 0 && strcmp(from, "-") != 0;
  uint64_t start = 0;
  double late = 0;
  if (rotated_set) {
    rotated(argc - 5, argv + 5, from, strtoul(argv[4], NULL, 10));
    start = rotated_start;
  } else if (strcmp(from, "-") == 0) {
    start = end; /* no timestamp anywhere to count back from: an empty window */
  } else if (window) {
    char from19[20];
    size_t fl = strlen(from);
    for (size_t i = 0; i < 19; i++) from19[i] = i < fl ? from[i] : '0';
    from19[19] = 0;
    u32 at = Z_kernelZ_alloc(&K, 32);
    memcpy(mem() + at, from19, 19);
    Z_kernelZ_setWindow(&K, at);
    Z_kernelZ_release(&K, at);
    start = offset_for_time(from19, end);
    /* The search trusts time order; a line of the window before its start says it was wrong
     * here, and then the whole log is read (lines before the window left out by date). */
    if (start > 0) {
      late = read_range(0, start, COUNT_IN_WINDOW);
      if (late > 0) start = 0;
    }
  }
  if (!rotated_set) read_range(start, end, FEED);

  out = gzdopen(dup(STDOUT_FILENO), "wb6");
  if (out == NULL) {
    fputs("output failed\n", stderr);
    return 3;
  }
  emit_tables(start, late);
  if (gzclose(out) != Z_OK) {
    fputs("output failed\n", stderr);
    return 3;
  }
  return 0;
}
