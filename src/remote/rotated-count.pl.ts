/**
 * Perl run on the target for a `since` window that reaches back before the last rotation of
 * the main log (see src/investigate/rotated-logs.ts for the local equivalent). Rotated files
 * may be gzip (known by the magic bytes 1f 8b); Compress::Raw::Zlib is core perl, so they
 * are decompressed on the host, as a stream, and counted there by the same counting core as
 * one main log (mainlog-count.pl.ts): only the count tables cross the wire.
 *
 * Which rotations exist comes from MAINLOG_INFO_PERL. Modes (`perl - MODE ARGS`, script on stdin):
 *   newest FILE...       PATH\tLAST\n of the first FILE with a timestamped line (reference for
 *                        a window when the current log was just rotated and is empty).
 *   scan FROM LIMITS REACH CURRENT PRED...
 *                        Walks PRED (newest first) through at least the first REACH ones
 *                        (whose last write says they may hold lines of the window), then on
 *                        until one starts before FROM, then reads
 *                        the chosen ones oldest first and CURRENT as one log. Prints
 *                        `unreadable\tPATH\tERROR` and `read\tPATH` lines, an empty line, then
 *                        the count tables of the window; `window\tSTART\tEND`
 *                        (uncompressed offsets over the files read) follows on stderr,
 *                        after `file\tEND\tFIRST\tGARBAGE` for each file read (where it
 *                        ends in them, its first timestamp when the window had not opened
 *                        before it, and the bytes after its gzip data that are no gzip data):
 *                        see windowFiles in rotated-scan.ts.
 *                        A file that fails part-way: exit 5 with `failed\tPATH\tERROR` on stderr.
 *
 * File contents are data: nothing read is interpreted by a shell. The native counter's
 * `--rotated` mode (src/remote/native/mainlog-count.c) answers `scan` with the same header, window and
 * tables, read to the same result (test/remote/native-rotated.test.ts); this is its fallback.
 */
import { GZIP_MEMBERS_PERL } from './gzip-members.pl.js';
import { COUNT_CORE, LINE_RULES } from './mainlog-count.pl.js';

const ROTATED_PRELUDE = String.raw`
my $mode = shift @ARGV;

# One line, without the newline die() ends a message with (kept as a trailing space otherwise).
sub clean { my ($t) = @_; $t =~ s/[\r\n\t]+/ /g; $t =~ s/ +$//; return $t }

# Open a log, plain or gzip (by its first two bytes): (handle, error). A gzip one is read member
# by member (gzip-members.pl.ts): the native counter and node read the same.
sub open_log {
  my ($file) = @_;
  open(my $fh, '<:raw', $file) or return (undef, "$file: cannot open: $!");
  return (undef, "$file: is a directory") if -d $fh;
  my $magic = '';
  my $n = read($fh, $magic, 2);
  return (undef, "$file: cannot read: $!") unless defined $n;
  seek($fh, 0, 0);
  return ($fh, undef) unless $magic eq "\x1f\x8b";
  return (gz_state($fh, $file), undef);
}

${GZIP_MEMBERS_PERL}
# Next line, or undef at the end; dies with the reason when gzip data is broken.
sub next_line {
  my ($h, $file) = @_;
  return ref($h) eq 'HASH' ? gz_line($h) : scalar(<$h>);
}

sub close_log { my ($h) = @_; close(ref($h) eq 'HASH' ? $h->{fh} : $h) }

# First timestamp within the first 4 MiB: (ts or '', error).
sub first_ts {
  my ($file) = @_;
  my ($h, $err) = open_log($file);
  return ('', $err) if defined $err;
  my $seen = 0;
  my $ts = '';
  eval {
    while (defined(my $line = next_line($h, $file))) {
      if ($line =~ $TS) { $ts = substr($line, 0, 19); last }
      $seen += length($line);
      last if $seen > 4 * 1024 * 1024;
    }
    1;
  } or return ('', clean($@));
  close_log($h);
  return ($ts, undef);
}

binmode(STDOUT);
$| = 1;

if ($mode eq 'newest') {
  for my $file (@ARGV) {
    my ($h, $err) = open_log($file);
    next if defined $err;
    my $last = '';
    my $ok = eval {
      while (defined(my $line = next_line($h, $file))) { $last = $line if $line =~ $TS }
      1;
    };
    next unless $ok;
    if ($last ne '') { print "$file\t" . substr($last, 0, 19) . "\n"; exit 0 }
  }
  exit 0;
}

if ($mode ne 'scan') { print STDERR "unknown mode\n"; exit 2 }
my ($from, $limits, $reach, $current, @preds) = @ARGV;
my @chosen;
my @header;
for my $i (0 .. $#preds) {
  my $file = $preds[$i];
  last if $i >= $reach && @chosen && $chosen[-1][1] lt $from;
  my ($ts, $err) = first_ts($file);
  if (defined $err) { push @header, "unreadable\t$file\t" . clean($err); next }
  push @chosen, [$file, $ts] if $ts ne '';
}
my @files = ((map { $_->[0] } reverse @chosen), $current);
print join('', map { "$_\n" } @header, map { "read\t$_" } @files), "\n";
`;

const ROTATED_DRIVER = String.raw`
set_limits($limits);
# The window opens at the first line dated at or after FROM, across the files in order.
my $pos = 0;
my $start;
for my $file (@files) {
  my ($h, $err) = open_log($file);
  if (defined $err) { print STDERR "failed\t$file\t" . clean($err) . "\n"; exit 5 }
  # Until the window opens: the file's first timestamp (the caller drops files read before it).
  my $file_first = '';
  my $ok = eval {
    while (defined(my $line = next_line($h, $file))) {
      my $at = $pos;
      $pos += length($line);
      if (!defined $start) {
        $file_first = substr($line, 0, 19) if $file_first eq '' && $line =~ $TS;
        next unless substr($line, 0, 19) ge $from && $line =~ $TS;
        $start = $at;
      }
      if ($line =~ $PREFIX) {
        $first = substr($line, 0, 19) if $first eq '';
        $last = substr($line, 0, 19);
        if (substr($line, 0, 19) lt $from) { $before++; next }
      }
      next if index($line, '<= ') < 0 && index($line, 'cwd=') < 0 && index($line, '== ') < 0 && index($line, '** ') < 0;
      count_line($line);
    }
    1;
  };
  if (!$ok) { print STDERR "failed\t$file\t" . clean($@) . "\n"; exit 5 }
  my $garbage = ref($h) eq 'HASH' ? $h->{garbage} : 0;
  close_log($h);
  print STDERR "file\t$pos\t$file_first\t$garbage\n";
}
$start = $pos unless defined $start;
# The window is known only at the end: it follows on stderr.
print STDERR "window\t$start\t$pos\n";
emit_tables(\*STDOUT, $start, 0);
`;

export const ROTATED_COUNT_PERL = LINE_RULES + ROTATED_PRELUDE + COUNT_CORE + ROTATED_DRIVER;
