/**
 * Prints `SIZE\nLAST_TIMESTAMP_OR_EMPTY\n`: what resolving `since` needs. Then
 * `FIRST_TIMESTAMP_OR_EMPTY\n` and the names in the log's directory that start with its name,
 * one a line as `NAME\tMTIME\tSIZE` (MTIME in the host's local time, as Exim stamps its lines)
 * or `NAME\t\t\tERROR` when it cannot be looked at: whether the window reaches back into
 * rotated files, and which exist.
 */
export const MAINLOG_INFO_PERL = String.raw`
use strict;
use warnings;
use POSIX ();
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
    next unless index($name, $base) == 0 && length($name) > length($base);
    my @st = stat("$dir/$name");
    if (@st) { print "$name\t" . POSIX::strftime('%Y-%m-%d %H:%M:%S', localtime($st[9])) . "\t$st[7]\n" }
    elsif (!$!{ENOENT}) { my $e = "$!"; $e =~ s/[\r\n\t]+/ /g; print "$name\t\t\t$e\n" }
  }
  closedir($dh);
}
`;
