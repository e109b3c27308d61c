/**
 * The flagged mailboxes' history, selected on the target: perl run on the host
 * (`perl - LIMIT GROUP...`, script on stdin) reads the main logs, Dovecot's maillog and
 * cpsrvd's webmail logs (plain or gzip, known by the magic bytes 1f 8b) and sends back, gzip
 * level 1, only the lines the activity collector (src/investigate/activity.ts) would use:
 * tens of megabytes of a gigabyte log, not the log. It selects lines, it does not interpret
 * them: the collector stays the one place lines become facts.
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
 */
export const HISTORY_FILTER_PERL = String.raw`
use strict;
use warnings;
use IO::Compress::Gzip qw($GzipError);
use IO::Uncompress::Gunzip qw($GunzipError);
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
  my $g = IO::Uncompress::Gunzip->new($fh, MultiStream => 1, Transparent => 0, Strict => 0)
    or return (undef, 'error', "corrupt or truncated gzip data ($GunzipError)");
  return ($g);
}

my $kept = 0;
my $number = -1;
my %lips;
for my $group (@groups) {
  my ($kind, $needles, $files) = @$group;
  my $any = @$needles ? join('|', map { quotemeta } @$needles) : undef;
  my $re = defined $any ? qr/$any/ : undef;
  for my $file (@$files) {
    $number++;
    my ($h, $why, $text) = open_log($file);
    if (!defined $h) { out("E\t$number\t$why\t" . clean($text) . "\n"); next }
    out("F\t$number\n");
    my $pos = 0;
    my $ok = eval {
      my $first = $kind eq 'mainlog';
      my $gz = ref($h) eq 'IO::Uncompress::Gunzip';
      while (1) {
        my $line = <$h>;
        if (!defined $line) {
          # The end, or a read error (a truncated gzip, an I/O error): never a silent stop.
          my $err = $gz ? $h->error() : ($h->error() ? "$!" : '');
          die "$err\n" if defined $err && $err ne '';
          last;
        }
        $pos += length($line);
        my $keep;
        if ($kind eq 'mainlog') {
          if ($first) {
            $first = 0;
            out("H$line") if substr($line, -1) eq "\n";
          }
          next if index($line, ' <= ') < 0;
          $keep = defined $re && $line =~ $re;
        } elsif ($kind eq 'maillog') {
          next if index($line, '-login: Login: user=<') < 0;
          $keep = defined $re && lc($line) =~ $re;
          if ($line =~ / lip=([0-9A-Fa-f:.]+)/) { $keep = 1 if !$lips{$1}++ }
        } else {
          next if index($line, ' NEW ') < 0 && index($line, ' LOGIN webmaild') < 0;
          $keep = defined $re && lc($line) =~ $re;
        }
        next unless $keep;
        out(substr($line, -1) eq "\n" ? "L$line" : "L$line\n");
        $kept += length($line);
        if ($kept > $limit) { out("C\t$number\t$pos\n"); finish() }
      }
      1;
    };
    if (!$ok) { out("X\t$number\t$pos\t" . clean($@) . "\n"); next }
    close($h);
    out("Z\t$number\t$pos\n");
  }
}
finish();
`;
