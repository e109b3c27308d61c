/**
 * Prints `SIZE\nLAST_TIMESTAMP_OR_EMPTY\n`: what resolving `since` needs. Then
 * `FIRST_TIMESTAMP_OR_EMPTY\n`, the log's own last write as `MTIME\tOFFSET\n`, and the names in
 * the log's directory that start with its name, one a line as
 * `NAME\tMTIME\tSIZE\t\tOFFSET\tLINE` or `NAME\t\t\tERROR` when it cannot be looked at: whether
 * the window reaches back into rotated files, and which exist. MTIME is epoch seconds and
 * OFFSET the system's offset from UTC then (seconds east): Exim may stamp its lines in another
 * zone, told by the caller from the log's last write and last line (src/investigate/log-zone.ts).
 * LINE is a timestamp the file holds, read cheaply: the last of a plain file, the first of a
 * gzip one (empty when none): a last write older than it bounds nothing.
 */
export const MAINLOG_INFO_PERL = String.raw`
use strict;
use warnings;
use POSIX ();
my ($file) = @ARGV;
my $TS = qr/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? /;

# The last timestamp in the last 16 MiB of a plain file ('' when none).
sub last_ts {
  my ($fh, $end) = @_;
  my $window = 64 * 1024;
  while (1) {
    my $start = $end > $window ? $end - $window : 0;
    seek($fh, $start, 0);
    my $buf = '';
    read($fh, $buf, $end - $start);
    my @lines = split(/\n/, $buf, -1);
    my $lowest = $start == 0 ? 0 : 1;
    for (my $i = $#lines; $i >= $lowest; $i--) {
      return substr($lines[$i], 0, 19) if $lines[$i] =~ $TS;
    }
    return '' if $start == 0 || $window >= 16 * 1024 * 1024;
    $window *= 4;
  }
}

# The first timestamp in the first 4 MiB of lines of a handle ('' when none).
sub first_ts {
  my ($fh) = @_;
  my $seen = 0;
  while (defined(my $line = <$fh>)) {
    return substr($line, 0, 19) if $line =~ $TS;
    $seen += length($line);
    last if $seen > 4 * 1024 * 1024;
  }
  return '';
}

# The system's offset from UTC at epoch $t, in seconds east.
sub offset_at {
  my ($t) = @_;
  my $z = POSIX::strftime('%z', localtime($t));
  return 0 unless $z =~ /^([+-])([0-9]{2})([0-9]{2})$/;
  return ($1 eq '-' ? -1 : 1) * ($2 * 3600 + $3 * 60);
}

# A timestamp a rotation holds, cheaply: the last of a plain file, the first of a gzip one.
sub known_line {
  my ($path, $size) = @_;
  open(my $fh, '<:raw', $path) or return '';
  my $magic = '';
  read($fh, $magic, 2);
  if ($magic ne "\x1f\x8b") { my $t = last_ts($fh, $size); close($fh); return $t }
  seek($fh, 0, 0);
  my $ts = eval {
    require IO::Uncompress::Gunzip;
    my $z = IO::Uncompress::Gunzip->new($fh, MultiStream => 1, Transparent => 0, Strict => 0) or return '';
    first_ts($z);
  };
  close($fh);
  return defined $ts ? $ts : '';
}

open(my $fh, '<:raw', $file) or do { print STDERR "cannot open $file: $!\n"; exit 2 };
my @own = stat($fh);
my $end = -s $fh;
my $last = last_ts($fh, $end);
seek($fh, 0, 0);
my $first = first_ts($fh);
print "$end\n$last\n$first\n$own[9]\t" . offset_at($own[9]) . "\n";
my ($dir, $base) = $file =~ m{^(.*)/([^/]+)$} ? ($1 eq '' ? '/' : $1, $2) : ('.', $file);
if (opendir(my $dh, $dir)) {
  for my $name (readdir($dh)) {
    next if $name =~ /[\r\n\t]/;
    next unless index($name, $base) == 0 && length($name) > length($base);
    my @st = stat("$dir/$name");
    if (@st) {
      my $line = -f _ ? known_line("$dir/$name", $st[7]) : '';
      print "$name\t$st[9]\t$st[7]\t\t" . offset_at($st[9]) . "\t$line\n";
    }
    elsif (!$!{ENOENT}) { my $e = "$!"; $e =~ s/[\r\n\t]+/ /g; print "$name\t\t\t$e\n" }
  }
  closedir($dh);
}
`;
