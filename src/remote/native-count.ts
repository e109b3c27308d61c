/**
 * The native main-log counter on an SSH target: a static binary built from the scanner's own
 * WebAssembly kernel (scripts/build-native-counter.mjs, source src/remote/native/mainlog-count.c)
 * that prints what the perl counter prints (mainlog-count.pl.ts) at a fraction of its CPU on the
 * host. It is uploaded for one run and nothing is installed: one command sends it gzipped on
 * stdin into a new private directory, checks its sha256 there, runs it and removes it (the
 * binary unlinks itself and its directory as it starts, so a killed run leaves nothing either).
 * Where it cannot run (another architecture, no sha256sum, every candidate directory noexec)
 * the caller counts with perl and says why.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { ExecResult, Transport } from '../transport/types.js';

/** The counter as built, ready to send. */
export interface NativeCounter {
  /** Bytes of the binary, and their sha256 (checked on the host before it runs). */
  size: number;
  sha256: string;
  /** What goes on stdin: the binary, gzipped. */
  upload: Buffer;
}

/** What the audit log keeps of one upload. */
export interface NativeCounterUse {
  /** Where it was written on the host ('' when no directory could be made). */
  path: string;
  sha256: string;
  size: number;
  /** Bytes sent (gzipped). */
  uploaded: number;
  /** The host reported the file and its directory gone after the run. */
  removed: boolean;
  /** Directories tried where it could not be executed (mounted noexec). */
  noexec: string[];
}

// src/remote/ and dist/remote/ are both two levels below the package root (as for the wasm kernel).
const BINARY_URL = new URL('../../dist/native/mainlog-count-linux-x86_64', import.meta.url);

let loaded: NativeCounter | null | undefined;

/** The built counter, or null when this installation has none (built without wasm2c or gcc). */
export function nativeCounter(): NativeCounter | null {
  if (loaded === undefined) {
    try {
      const bytes = readFileSync(fileURLToPath(BINARY_URL));
      loaded = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), upload: gzipSync(bytes, { level: 9 }) };
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Run on the host as `sh -c SCRIPT sh SHA256 NAME ARGS...` (the counter's arguments: `FILE END
 * FROM LIMITS`, or `--rotated FROM LIMITS REACH CURRENT PRED...`), the binary gzipped on
 * stdin. Nothing from the arguments is evaluated by the shell. Exit 90: the counter could not be
 * run here (reason on stderr as `unavailable\tREASON`); any other status is the counter's own.
 * stderr also says `written\tPATH` for each copy written, `native\tPATH\tSHA256\tSIZE` once
 * checked, `noexec\tDIR` for each directory that would not run it, and `removed\tPATH` at the
 * end when nothing is left.
 */
export const NATIVE_RUN_SH = String.raw`
sha=$1; name=$2; shift 2
dir=
bin=
drained=0
gone() {
  if [ -n "$dir" ]; then
    rm -rf -- "$dir"
    [ -e "$dir" ] || printf 'removed\t%s\n' "$bin" >&2
    dir=
  fi
}
trap gone EXIT
# A connection gone (sshd killed) must not kill this shell on its next report, which would skip
# the EXIT trap and leave the upload behind: writes then fail, and the script goes on to remove it.
trap '' PIPE
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
unavailable() {
  [ $drained = 1 ] || cat > /dev/null
  printf 'unavailable\t%s\n' "$1" >&2
  exit 90
}
case "$(uname -s) $(uname -m)" in
  'Linux x86_64') ;;
  *) unavailable "not a Linux x86_64 host ($(uname -s) $(uname -m))" ;;
esac
command -v sha256sum > /dev/null 2>&1 || unavailable 'no sha256sum on the host'
command -v gzip > /dev/null 2>&1 || unavailable 'no gzip on the host'
umask 077
st=126
for p in "$HOME/.cache" "$HOME" /var/tmp /tmp /dev/shm; do
  case $p in /?*) ;; *) continue ;; esac
  [ -d "$p" ] && [ -w "$p" ] || continue
  d=$p/$name
  mkdir -m 700 -- "$d" 2> /dev/null || continue
  if [ -z "$dir" ]; then
    dir=$d
    bin=$d/mainlog-count
    drained=1
    gzip -dc > "$bin" || unavailable "upload to $d failed"
  else
    if ! cp -- "$bin" "$d/mainlog-count"; then rmdir -- "$d"; continue; fi
    rm -rf -- "$dir"
    dir=$d
    bin=$d/mainlog-count
  fi
  chmod 700 -- "$bin"
  printf 'written\t%s\n' "$bin" >&2
  sum=$(sha256sum < "$bin" | cut -c1-64)
  [ "$sum" = "$sha" ] || unavailable "checksum mismatch on the host: $sum"
  printf 'native\t%s\t%s\t%s\n' "$bin" "$sum" "$(wc -c < "$bin" | tr -d ' ')" >&2
  "$bin" --unlink-self "$@"
  st=$?
  [ $st = 126 ] || break
  printf 'noexec\t%s\n' "$p" >&2
done
[ -n "$dir" ] || unavailable 'no private directory could be made'
gone
[ $st = 126 ] && unavailable 'no directory lets it run (mounted noexec)'
exit $st
`;

/** The directory name for one run: new each time, so no two runs (or cached reads) share it. */
function runName(): string {
  return `runbook-count-${randomBytes(8).toString('hex')}`;
}

export interface NativeRun {
  /** The command's result; stdout is in `stdout` when it succeeded. */
  result: ExecResult;
  stdout: Buffer;
  use: NativeCounterUse;
  /** Why the counter could not run here, when it could not (exit 90). */
  unavailable: string | null;
}

/**
 * Upload, check, run and remove the counter with the perl counters' arguments (`args`: FILE
 * END FROM LIMITS as mainlog-count.pl.ts, or `--rotated` and those of rotated-count.pl.ts's
 * scan mode). Streams stdout (also so that the engine never serves it from its read cache).
 */
export async function runNativeCounter(
  transport: Transport,
  counter: NativeCounter,
  args: string[],
  options: { timeoutMs?: number; signal?: AbortSignal },
): Promise<NativeRun> {
  const chunks: Buffer[] = [];
  const result = await transport.exec(['sh', '-c', NATIVE_RUN_SH, 'sh', counter.sha256, runName(), ...args], {
    stdin: counter.upload,
    maxOutputBytes: 64 * 1024,
    onStdout: (c) => chunks.push(c),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const use: NativeCounterUse = { path: '', sha256: counter.sha256, size: counter.size, uploaded: counter.upload.length, removed: false, noexec: [] };
  let unavailable: string | null = null;
  for (const line of result.stderr.split('\n')) {
    const [kind, a = '', b = '', c = ''] = line.split('\t');
    if (kind === 'written') use.path = a;
    else if (kind === 'native') {
      if (b !== counter.sha256 || Number(c) !== counter.size) unavailable = `the uploaded file does not match (sha256 ${b}, ${c} bytes)`;
    } else if (kind === 'removed' && a === use.path) use.removed = true;
    else if (kind === 'noexec') use.noexec.push(a);
    else if (kind === 'unavailable' && result.exitCode === 90) unavailable = a;
  }
  return { result, stdout: Buffer.concat(chunks), use, unavailable };
}
