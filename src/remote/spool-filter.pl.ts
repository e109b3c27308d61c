/**
 * Perl run on the target (`perl - SPOOL_DIR MAX_MESSAGES MAX_HEADER_BYTES`, script on stdin):
 * it lists the queue's -H files exactly as `listSpoolHeaders` does (split `input/X/ID-H` and
 * flat `input/ID-H`, same order, same cut at MAX_MESSAGES), reads the first MAX_HEADER_BYTES
 * of each (never a -D body) and sends back a compact copy that the control host parses with
 * the same parser as a local scan.
 *
 * The compact copy keeps, byte for byte:
 *   - everything up to the first empty line at or after line 5 (the envelope: ID, owner,
 *     sender, time, -variables, recipients; the parser never reads past that line for it),
 *   - any lines between there and the next header line,
 *   - each header whose name is Subject, X-PHP-Script or X-PHP-Originating-Script (any case,
 *     or any name with non-ASCII bytes), with all of its continuation lines.
 * Other headers (Received, DKIM-Signature, To, ...) are dropped whole. A line whose role the
 * parser might see differently (a carriage return, U+2028/2029, a non-ASCII flag byte after
 * the length digits) makes the whole file go verbatim: slower, never different.
 *
 * Output: `SPLIT TOTAL\n` in plain text, then gzipped records `H<len>\n<bytes>` (one per file
 * read) and a final `T<bytes read> <bytes sent> <verbatim files>\n`. Header text is written by
 * spammers: it is moved as bytes and interpreted by nothing here.
 */
export const SPOOL_FILTER_PERL = String.raw`
use strict;
use warnings;
use IO::Compress::Gzip qw($GzipError);
my ($dir, $max, $maxbytes) = @ARGV;
my $input = $dir;
$input =~ s{/+\z}{} if $input ne '/';
$input = ($input eq '/' ? '' : $input) . '/input';

my $IDRE = qr/\A(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4}|[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2})-H\z/;
# One UTF-16 unit once decoded as UTF-8: one byte, or one valid 2- or 3-byte sequence (BMP).
my $ONECHAR = qr/\A(?:[\x00-\xFF]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF])\z/;

opendir(my $dh, $input) or do { print STDERR "cannot open $input: $!\n"; exit 2 };
my @names = grep { $_ ne '.' && $_ ne '..' } readdir($dh);
closedir($dh);
my @paths;
my $split = 0;
for my $e (@names) {
  my $p = "$input/$e";
  lstat($p) or next;
  if (-d _ && $e =~ $ONECHAR) {
    $split = 1;
    opendir(my $sh, $p) or do { print STDERR "cannot open $p: $!\n"; exit 2 };
    push @paths, map { "$p/$_" } grep { $_ =~ $IDRE } readdir($sh);
    closedir($sh);
  } elsif (-f _ && $e =~ $IDRE) {
    push @paths, $p;
  }
}
@paths = sort @paths;
my $total = scalar(@paths);
splice(@paths, $max) if $total > $max;

binmode(STDOUT);
$| = 1;
print "$split $total\n";
my $z = IO::Compress::Gzip->new(\*STDOUT, -Level => 6) or do { print STDERR "gzip: $GzipError\n"; exit 3 };

# 1 header line, 2 continuation, 0 other, -1 cannot tell for certain. Mirrors
# /^\d{3,}(.) (.*)$/ and /^[ \t]/ of the parser; returns where the header text starts.
sub classify {
  my ($l) = @_;
  if ($l =~ /\A([0-9]{3,})/) {
    my $d = length($1);
    return (-1) if $l =~ /\r|\xE2\x80[\xA8\xA9]/;
    my $c = substr($l, $d, 1);
    return (0) if $c eq '';
    return (-1) if ord($c) >= 0x80;
    return (1, $d + 2) if substr($l, $d + 1, 1) eq ' ';
    return (1, $d + 1) if $d >= 4 && $c eq ' ';
    return (0);
  }
  return (2) if $l =~ /\A[ \t]/;
  return (0);
}

sub wanted {
  my ($body) = @_;
  my $colon = index($body, ':');
  my $name = $colon > 0 ? substr($body, 0, $colon) : $body;
  return 1 if $name =~ /[\x80-\xFF]/;
  $name = lc($name);
  return $name eq 'subject' || $name eq 'x-php-script' || $name eq 'x-php-originating-script';
}

sub compact {
  my ($buf) = @_;
  my @lines = split(/\n/, $buf, -1);
  my $b;
  for my $i (4 .. $#lines) {
    if ($lines[$i] eq '') { $b = $i; last }
  }
  return undef unless defined $b;
  my @out = @lines[0 .. $b];
  my $keep = 1;    # lines before the first header line after the envelope are kept
  for my $i ($b + 1 .. $#lines) {
    my ($kind, $at) = classify($lines[$i]);
    return undef if $kind < 0;
    $keep = wanted(substr($lines[$i], $at)) if $kind == 1;
    push @out, $lines[$i] if $keep;
  }
  return join("\n", @out);
}

my ($read, $sent, $verbatim) = (0, 0, 0);
for my $p (@paths) {
  open(my $fh, '<:raw', $p) or next;    # delivered and removed since the listing
  my $buf = '';
  my $ok = 1;
  while (length($buf) < $maxbytes) {
    my $n = sysread($fh, $buf, $maxbytes - length($buf), length($buf));
    if (!defined $n) { $ok = 0; last }
    last if $n == 0;
  }
  close($fh);
  next unless $ok;
  $read += length($buf);
  my $c = compact($buf);
  if (!defined $c) { $c = $buf; $verbatim++ }
  $sent += length($c);
  $z->print('H' . length($c) . "\n", $c);
}
$z->print("T$read $sent $verbatim\n");
$z->close();
`;
