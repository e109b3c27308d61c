/**
 * Counting on the target, first step (the detection action does not use it yet): perl run on the host
 * (`perl - FILE END FROM`, script on stdin; FROM `-` for no window) reads the log once and
 * sends back counts, not lines: `arrivals N\nbefore_window M\n`. It reads every line, so a log
 * out of time order is counted as MainlogScanner.setWindow counts it: lines dated before FROM
 * are left out and counted, the others counted wherever they stand.
 *
 * The line rules are those of the scanner's kernel (src/parsers/wasm/scan.ts): a timestamp
 * prefix (fraction, zone and [pid] optional), a 23- or 16-character message ID followed by a
 * space, then `<= `. The other findings (senders, AUTH ids, addresses, subjects, cwd= pairs)
 * are still filtered lines sent back by mainlog-filter.pl.ts.
 */
export const MAINLOG_COUNT_PERL = String.raw`
use strict;
use warnings;
my ($file, $end, $from) = @ARGV;
$from = '' if !defined($from) || $from eq '-';
open(my $fh, '<:raw', $file) or do { print STDERR "cannot open $file: $!\n"; exit 2 };
my $ID = qr/(?:[A-Za-z0-9]{6}-[A-Za-z0-9]{11}-[A-Za-z0-9]{4}|[A-Za-z0-9]{6}-[A-Za-z0-9]{6}-[A-Za-z0-9]{2})/;
my $ARRIVAL = qr/^([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]+)?(?: [+-][0-9]{4}(?= ))? (?:\[[0-9]+\] )?$ID <= /;
my $TS = qr/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?: [+-][0-9]{4}(?= ))? /;
my ($arrivals, $before, $pos) = (0, 0, 0);
while ($pos < $end && defined(my $line = <$fh>)) {
  $pos += length($line);
  if ($from ne '' && substr($line, 0, 19) lt $from && $line =~ $TS) {
    $before++;
    next;
  }
  next if index($line, '<= ') < 0;
  $arrivals++ if $line =~ $ARRIVAL;
}
print "arrivals $arrivals\nbefore_window $before\n";
`;
