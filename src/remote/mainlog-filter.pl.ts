/**
 * Perl run on the target (`perl - FILE END FROM`, script on stdin): cPanel hosts always have
 * perl, never Node. It finds the `since` window by binary search on the leading timestamps,
 * exactly as the local reader does, and sends back only what the scanner looks at: lines that
 * carry an arrival (`<= `) or a `cwd=` submission, plus the window's first and last
 * timestamped lines (for first_time/last_time). Output: `START\n` then that text, gzipped;
 * on stderr `late\tN` (lines of the window found before its first line: then the whole log is
 * read) and `before\tN` (lines read but dated before the window: not sent).
 *
 * The log is read as bytes and nothing from it is interpreted by a shell.
 */
export const MAINLOG_FILTER_PERL = String.raw`
use strict;
use warnings;
use IO::Compress::Gzip qw($GzipError);
my ($file, $end, $from) = @ARGV;
open(my $fh, '<:raw', $file) or do { print STDERR "cannot open $file: $!\n"; exit 2 };
my $TS = qr/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? /;

# First line starting at or after $off that begins with a timestamp: [start, ts] or undef.
sub first_ts {
  my ($off) = @_;
  my $pos = $off;
  if ($off > 0) {
    seek($fh, $off - 1, 0) or return undef;
    my $skip = <$fh>;
    return undef unless defined $skip;
    $pos = $off - 1 + length($skip);
  } else {
    seek($fh, 0, 0) or return undef;
  }
  my $scanned = 0;
  while ($pos < $end && $scanned < 4 * 1024 * 1024) {
    my $line = <$fh>;
    last unless defined $line;
    return [$pos, substr($line, 0, 19)] if $line =~ $TS;
    $pos += length($line);
    $scanned += length($line);
  }
  return undef;
}

my $start = 0;
if (defined $from && $from ne '') {
  if ($from eq '-') {
    $start = $end;    # no timestamp anywhere: an empty window
  } else {
    my ($lo, $hi, $best) = (0, $end, $end);
    while ($lo < $hi) {
      my $mid = int(($lo + $hi) / 2);
      my $r = first_ts($mid);
      if (!defined $r || $r->[1] ge $from) {
        $best = $r->[0] if defined $r && $r->[0] < $best;
        $hi = $mid;
      } else {
        $lo = $r->[0] + 1;
      }
    }
    $start = $best;
  }
}
# The search trusts time order: lines of the window before $start say it was wrong here, and
# then the whole log is read (lines dated before the window are left out below), as locally.
my $window = defined $from && $from ne '' && $from ne '-';
my $late = 0;
if ($window && $start > 0) {
  seek($fh, 0, 0) or exit 4;
  my $p = 0;
  while ($p < $start) {
    my $line = <$fh>;
    last unless defined $line;
    $p += length($line);
    $late++ if substr($line, 0, 19) ge $from && $line =~ $TS;
  }
  $start = 0 if $late > 0;
}
print STDERR "late\t$late\n";

binmode(STDOUT);
$| = 1;
print "$start\n";
my $z = IO::Compress::Gzip->new(\*STDOUT, -Level => 1) or do { print STDERR "gzip: $GzipError\n"; exit 3 };
seek($fh, $start, 0) or exit 4;
my $pos = $start;
my $first_done = 0;
my ($last_line, $last_sent) = (undef, 1);
my $lines = 0;
my $before = 0;
while ($pos < $end) {
  my $line = <$fh>;
  last unless defined $line;
  $line = substr($line, 0, $end - $pos) if $pos + length($line) > $end;
  $pos += length($line);
  my $ts = $line =~ $TS;
  my $early = $window && $ts && substr($line, 0, 19) lt $from;
  $before++ if $early;
  my $want = !$early && (index($line, '<= ') >= 0 || index($line, 'wd=') >= 0 || index($line, ' args: ') >= 0);
  my $send = $want || ($ts && !$first_done);
  if ($send) {
    $line .= "\n" unless substr($line, -1) eq "\n";
    $z->print($line);
    $lines++;
  }
  if ($ts) {
    $first_done = 1;
    $last_line = $line;
    $last_sent = $send ? 1 : 0;
  }
}
# The window's last timestamped line, if it was not sent with the others.
if (defined $last_line && !$last_sent) {
  $last_line .= "\n" unless substr($last_line, -1) eq "\n";
  $z->print($last_line);
}
$z->close();
print STDERR "before\t$before\n";
`;

/**
 * Prints `SIZE\nLAST_TIMESTAMP_OR_EMPTY\n`: what resolving `since` needs. Then
 * `FIRST_TIMESTAMP_OR_EMPTY\n` and the names in the log's directory that start with its name,
 * one a line: whether the window reaches back into rotated files, and which exist.
 */
export const MAINLOG_INFO_PERL = String.raw`
use strict;
use warnings;
my ($file) = @ARGV;
open(my $fh, '<:raw', $file) or do { print STDERR "cannot open $file: $!\n"; exit 2 };
my $end = -s $fh;
my $TS = qr/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? /;
my $last = '';
my $window = 64 * 1024;
while (1) {
  my $start = $end > $window ? $end - $window : 0;
  seek($fh, $start, 0);
  my $buf = '';
  read($fh, $buf, $end - $start);
  my @lines = split(/\n/, $buf, -1);
  my $lowest = $start == 0 ? 0 : 1;
  my $found;
  for (my $i = $#lines; $i >= $lowest; $i--) {
    if ($lines[$i] =~ $TS) { $found = substr($lines[$i], 0, 19); last }
  }
  if (defined $found) { $last = $found; last }
  last if $start == 0 || $window >= 16 * 1024 * 1024;
  $window *= 4;
}
my $first = '';
seek($fh, 0, 0);
my $seen = 0;
while (defined(my $line = <$fh>)) {
  if ($line =~ $TS) { $first = substr($line, 0, 19); last }
  $seen += length($line);
  last if $seen > 4 * 1024 * 1024;
}
print "$end\n$last\n$first\n";
my ($dir, $base) = $file =~ m{^(.*)/([^/]+)$} ? ($1 eq '' ? '/' : $1, $2) : ('.', $file);
if (opendir(my $dh, $dir)) {
  for my $name (readdir($dh)) {
    next if $name =~ /[\r\n\t]/;
    print "$name\n" if index($name, $base) == 0 && length($name) > length($base);
  }
  closedir($dh);
}
`;
