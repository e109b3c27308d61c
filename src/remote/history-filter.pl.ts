/**
 * The flagged mailboxes' history, selected on the target: perl run on the host
 * (`perl - LIMIT GROUP...`, script on stdin) reads the main logs, Dovecot's maillog and
 * cpsrvd's webmail logs (plain or gzip, known by the magic bytes 1f 8b) and sends back, gzip
 * level 1, only the lines the activity collector (src/investigate/activity.ts) would use:
 * tens of megabytes of a gigabyte log, not the log. It selects lines, it does not interpret
 * them: the collector stays the one place lines become facts. In a plain main log the needles
 * are found by the host's grep -F (argv from perl, no shell), in a gzip one by perl itself.
 *
 * GROUP is `KIND N NEEDLE×N M FILE×M`. Each KIND keeps what the offline reader
 * (src/investigate/activity-read.ts) hands the collector, narrowed by its needles:
 *   mainlog  the first line of each file, and arrivals (` <= `) holding a needle byte for byte
 *            (the collector matches the same needles byte for byte; the case-folded extra lines
 *            a `grep -i` found were dropped there, yet would add their `I=` interface);
 *   maillog  `-login: Login: user=<` lines whose lower-cased text holds a needle, plus the first
 *            line of each distinct ` lip=` (the collector takes this server's addresses from
 *            every login line);
 *   webmail  ` NEW ` and ` LOGIN webmaild` lines whose lower-cased text holds a needle.
 *
 * Output records, one a line; N is the file's number across all groups, from 0:
 *   `H<line>` first line of a main log      `L<line>` a kept line of the file last opened
 *   `F\tN` file N opened                    `Z\tN\tBYTES` file N read to its end
 *   `E\tN\tmissing|error\tTEXT` not opened  `X\tN\tBYTES\tTEXT` failed part-way
 *   `C\tN\tBYTES` LIMIT bytes of lines kept: stopped in file N, nothing after it read
 *   `D` the end (its absence: the output was cut).
 * File contents are data: nothing read is interpreted by a shell.
 */import { GZIP_MEMBERS_PERL } from './gzip-members.pl.js';

export const HISTORY_FILTER_PERL = String.raw`
use strict;
use warnings;
use IO::Compress::Gzip qw($GzipError);
use IO::Handle;

my $limit = shift @ARGV;
my @groups;
while (@ARGV) {
  my ($kind, $n) = splice(@ARGV, 0, 2);
  my @needles = grep { $_ ne '' } splice(@ARGV, 0, $n);
  my $m = shift @ARGV;
  push @groups, [$kind, \@needles, [splice(@ARGV, 0, $m)]];
}

binmode(STDOUT);
my $z = IO::Compress::Gzip->new(\*STDOUT, -Level => 1, Minimal => 1) or do { print STDERR "gzip: $GzipError\n"; exit 3 };
my $buf = '';
sub out {
  $buf .= $_[0];
  if (length($buf) >= 262144) { $z->print($buf) or die "gzip: $GzipError\n"; $buf = '' }
}
sub finish {
  out("D\n");
  $z->print($buf) or die "gzip: $GzipError\n";
  $z->close() or die "gzip: $GzipError\n";
  exit 0;
}
sub clean { my ($t) = @_; $t =~ s/[\r\n\t]+/ /g; return $t }

# Open a log, plain or gzip: (handle, undef) or (undef, 'missing'|'error', text).
sub open_log {
  my ($file) = @_;
  open(my $fh, '<:raw', $file) or return (undef, ($!{ENOENT} ? 'missing' : 'error'), "cannot open: $!");
  return (undef, 'error', 'is a directory') if -d $fh;
  my $magic = '';
  my $n = read($fh, $magic, 2);
  return (undef, 'error', "cannot read: $!") unless defined $n;
  seek($fh, 0, 0);
  return ($fh) unless $magic eq "\x1f\x8b";
  # A gzip one is read member by member, as the counters read it; its header is checked here.
  my $g = gz_state($fh, $file);
  return (undef, 'error', $@ =~ s/^\Q$file\E: //r =~ s/\n\z//r) unless eval { gz_more($g); 1 };
  return ($g);
}
${GZIP_MEMBERS_PERL}

my $kept = 0;
my $number = -1;
my $pos = 0;
my %lips;

# A kept line (ending in "\n" but the last of a file) and the file's bytes read up to its end.
sub keep {
  my ($line, $at) = @_;
  out(substr($line, -1) eq "\n" ? "L$line" : "L$line\n");
  $kept += length($line);
  if ($kept > $limit) { out("C\t$number\t$at\n"); finish() }
}

# The end of a file, or a read error (an I/O error): never a silent stop. A broken gzip dies as it is read.
sub check_end {
  my ($h, $gz) = @_;
  return if $gz;
  die "$!\n" if $h->error();
}

# Arrivals holding a needle in $$b up to $stop (a line end), the block starting at file offset
# $base. The needles are searched in the whole block, not line by line: most lines hold none.
sub arrivals_in {
  my ($b, $stop, $re, $base) = @_;
  pos($$b) = 0;
  while ($$b =~ /$re/g) {
    my $at = $-[0];
    last if $at >= $stop;
    my $s = rindex($$b, "\n", $at) + 1;
    my $e = index($$b, "\n", $at);
    $e = length($$b) - 1 if $e < 0;
    my $line = substr($$b, $s, $e + 1 - $s);
    keep($line, $base + $e + 1) if index($line, ' <= ') >= 0;
    pos($$b) = $e + 1;
  }
}

# A main log: its first line, then its arrivals holding a needle, read in 4 MiB blocks.
sub main_log {
  my ($h, $gz, $re) = @_;
  my $carry = '';
  my $first = 1;
  while (1) {
    my $chunk = '';
    my $n;
    if ($gz) { $chunk = gz_block($h, 4194304); $n = length($chunk) } else { $n = read($h, $chunk, 4194304) }
    die "$!\n" if !defined $n;
    if ($n == 0) { check_end($h, $gz); last }
    my $block = $carry . $chunk;
    if ($first) {
      my $nl = index($block, "\n");
      if ($nl >= 0) { out('H' . substr($block, 0, $nl + 1)); $first = 0 }
    }
    my $stop = rindex($block, "\n") + 1;
    arrivals_in(\$block, $stop, $re, $pos) if defined $re && $stop > 0;
    $carry = substr($block, $stop);
    $pos += $stop;
  }
  # The last line, without its newline.
  if ($carry ne '') {
    arrivals_in(\$carry, length($carry), $re, $pos) if defined $re;
    $pos += length($carry);
  }
}

# grep, when the host has one: a plain main log's needles are found by grep -F (Aho-Corasick),
# in less than half the CPU of perl's trie over the same text; perl keeps its arrivals.
my ($grep) = grep { -x $_ } map { "$_/grep" } split(/:/, $ENV{PATH} // '/usr/bin:/bin');

# A plain main log through grep: its first line here, then grep's lines holding a needle. -b
# gives each line's offset in the file, for the record of a run cut by the limit.
sub grep_main_log {
  my ($h, $file, $needles) = @_;
  my $head = <$h>;
  out("H$head") if defined $head && substr($head, -1) eq "\n";
  local $ENV{LC_ALL} = 'C';
  open(my $g, '-|', $grep, '-F', '-a', '-b', (map { ('-e', $_) } @$needles), '--', $file) or die "cannot run grep: $!\n";
  binmode($g);
  while (defined(my $rec = <$g>)) {
    my $colon = index($rec, ':');
    my $line = substr($rec, $colon + 1);
    $pos = substr($rec, 0, $colon) + length($line);
    keep($line, $pos) if index($line, ' <= ') >= 0;
  }
  close($g);
  # grep: 0 lines found, 1 none, 2 an error (it said which on stderr).
  die 'grep ' . (($? & 127) ? 'killed by signal ' . ($? & 127) : 'failed with exit ' . ($? >> 8)) . "\n" if $? != 0 && $? != 256;
  $pos = -s $file // $pos;
}

# A maillog or webmail log, line by line (small beside a main log).
sub login_log {
  my ($h, $gz, $re, $kind) = @_;
  while (1) {
    my $line = $gz ? gz_line($h) : <$h>;
    if (!defined $line) { check_end($h, $gz); last }
    $pos += length($line);
    my $take;
    if ($kind eq 'maillog') {
      next if index($line, '-login: Login: user=<') < 0;
      $take = defined $re && lc($line) =~ $re;
      if ($line =~ / lip=([0-9A-Fa-f:.]+)/) { $take = 1 if !$lips{$1}++ }
    } else {
      next if index($line, ' NEW ') < 0 && index($line, ' LOGIN webmaild') < 0;
      $take = defined $re && lc($line) =~ $re;
    }
    keep($line, $pos) if $take;
  }
}

for my $group (@groups) {
  my ($kind, $needles, $files) = @$group;
  my $any = @$needles ? join('|', map { quotemeta } @$needles) : undef;
  my $re = defined $any ? qr/$any/ : undef;
  for my $file (@$files) {
    $number++;
    my ($h, $why, $text) = open_log($file);
    if (!defined $h) { out("E\t$number\t$why\t" . clean($text) . "\n"); next }
    out("F\t$number\n");
    $pos = 0;
    my $gz = ref($h) eq 'HASH';
    my $ok = eval {
      if ($kind eq 'mainlog') {
        if (!$gz && defined $re && defined $grep) { grep_main_log($h, $file, $needles) } else { main_log($h, $gz, $re) }
      } else {
        login_log($h, $gz, $re, $kind);
      }
      1;
    };
    if (!$ok) { out("X\t$number\t$pos\t" . clean($@ =~ s/^\Q$file\E: //r) . "\n"); next }
    close($gz ? $h->{fh} : $h);
    out("Z\t$number\t$pos\n");
  }
}
finish();
`;
