/**
 * Counting on the target: perl run on the host (`perl - FILE END FROM MAXKEYS`, script on
 * stdin; FROM empty for no window, `-` for a window with no timestamp to count back from) reads
 * the main log once and sends back the scanner's count tables, not lines: kilobytes, whatever
 * the size of the log. cPanel hosts always have perl, never Node.
 *
 * It enters the window as the local reader does (src/investigate/mainlog-file.ts): binary
 * search on the leading timestamps, then, when lines of the window stand before that start
 * (a log out of time order), the whole log is read and lines dated before the window are left
 * out and counted.
 *
 * The line rules are the scanner kernel's (src/parsers/wasm/scan.ts), statement for statement:
 * the property test in test/remote/mainlog-count.test.ts holds both to the same tables over
 * generated hostile logs. Table, relation and total names and the choice of what to send come
 * from src/parsers/count-registry.ts (REGISTRY_PERL); a new per-sender counter is declared
 * there and counted in both, in count_tuples here and in the kernel's arrival(). Deferrals and failures
 * (`outcome`) are joined to their arrival by message id through a bounded memory of two
 * generations, as the kernel's join.ts (which keys by 64-bit hashes where this keys by strings).
 *
 * Output, gzip (binary-safe: keys are hex):
 *   `start\tN`, `late\tN`, `before\tN`, `first\tTS`, `last\tTS`, `total\tNAME\tN`,
 *   `key\tTABLE\tID\tHEX\tCOUNT` (ids per table, in order of first sight),
 *   `pair\tRELATION\tPARENT_ID\tCHILD_ID\tCOUNT`.
 * What emit_tables chooses to send, src/remote/native/mainlog-count.c chooses and prints too, both
 * walking the registry (test/remote/native-count.test.ts compares the two outputs).
 * The log is read as bytes and nothing from it is interpreted by a shell.
 */

import { RELATIONS, TABLES, TOTALS, type RelationSpec, type TableSpec, type TotalSpec } from '../parsers/count-registry.js';

/** A perl word list of registry names (checked: they are interpolated into the script). */
function words(names: readonly string[]): string {
  for (const n of names) if (!/^[a-z][a-z0-9_]*$/.test(n)) throw new Error(`count registry: name ${JSON.stringify(n)} is not a perl word`);
  return names.join(' ');
}

/** A perl hash of registry names to names or numbers. */
function hash(pairs: [string, string | number][]): string {
  words(pairs.map(([k]) => k));
  words(pairs.flatMap(([, v]) => (typeof v === 'string' ? [v] : [])));
  return pairs.map(([k, v]) => `${k} => ${typeof v === 'string' ? `'${v}'` : String(v)}`).join(', ');
}

const tables: readonly TableSpec[] = TABLES;
const relations: readonly RelationSpec[] = RELATIONS;
const totals: readonly TotalSpec[] = TOTALS;

/**
 * The registry (src/parsers/count-registry.ts) as perl: table names in the kernel's order, keys
 * kept at most where not MAXKEYS, the tables ranked into lists (and counters that rank their
 * keys' owners), subject tables, each counter's owner table, the relations with their parent
 * and child tables (those that send every child), and the totals sent as `total` lines.
 */
export const REGISTRY_PERL = [
  `my @TABLES = qw(${words(tables.map((t) => t.name))});`,
  `my %MAX_KEYS = (${hash(tables.flatMap((t) => (t.maxKeys === undefined ? [] : [[t.name, t.maxKeys] as [string, number]])))});`,
  `my @RANKED = qw(${words(tables.filter((t) => t.list !== undefined || t.ranks).map((t) => t.name))});`,
  `my %RANKS = (${hash(tables.filter((t) => t.ranks).map((t) => [t.name, 1]))});`,
  `my %SUBJECTS = (${hash(tables.filter((t) => t.subjects).map((t) => [t.name, 1]))});`,
  `my %OF = (${hash(tables.flatMap((t) => (t.of === undefined ? [] : [[t.name, t.of] as [string, string]])))});`,
  `my @RELATIONS = qw(${words(relations.map((r) => r.name))});`,
  `my %parent = (${hash(relations.map((r) => [r.name, r.parent]))});`,
  `my %child = (${hash(relations.map((r) => [r.name, r.child]))});`,
  `my %ALL_CHILDREN = (${hash(relations.filter((r) => r.into === 'extra').map((r) => [r.name, 1]))});`,
  `my @TOTALS = qw(${words(totals.filter((t) => t.header === undefined).map((t) => t.name))});`,
].join('\n');

/** What every driver starts with: pragmas and the line rules. */
export const LINE_RULES = String.raw`
use strict;
use warnings;
use IO::Compress::Gzip qw($GzipError);
my $TS = qr/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? /;
# The kernel's timestampPrefix: its length, or 0.
my $PREFIX = qr/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?: [+-][0-9]{4}(?= ))? (?:\[[0-9]+\] )?/;
my $ID = qr/(?:[A-Za-z0-9]{6}-[A-Za-z0-9]{11}-[A-Za-z0-9]{4}|[A-Za-z0-9]{6}-[A-Za-z0-9]{6}-[A-Za-z0-9]{2})(?= |$)/;
`;

/** Counting shared by the drivers below: tables, line rules, output (see the comment above). */
export const COUNT_CORE = String.raw`
# --- The counting core (shared by the drivers; they call set_limits, and leave out lines dated before the window). ---
# Keys kept per table, entries per list and per nested list of the result, and messages
# remembered for joining (half of them per generation).
my ($max_keys, $limit, $nested_limit, $half) = (200000, 50, 10, 131072);
sub set_limits {
  my ($text) = @_;
  my @v = split(/:/, defined $text ? $text : '');
  $max_keys = $v[0] if defined $v[0] && $v[0] =~ /^[0-9]+$/;
  $limit = $v[1] if defined $v[1] && $v[1] =~ /^[0-9]+$/;
  $nested_limit = $v[2] if defined $v[2] && $v[2] =~ /^[0-9]+$/;
  $half = $v[3] < 2 ? 1 : int($v[3] / 2) if defined $v[3] && $v[3] =~ /^[0-9]+$/;
}
# Tables, relations (the self pairs folded in) and totals, as src/parsers/count-registry.ts declares them.
${REGISTRY_PERL}
my %tid = map { $TABLES[$_] => $_ } 0 .. $#TABLES;
my (@ids, @keys, @counts);
for my $t (0 .. $#TABLES) { $ids[$t] = {}; $keys[$t] = []; $counts[$t] = [] }
my %rid = map { $RELATIONS[$_] => $_ } 0 .. $#RELATIONS;
my @pairs = map { {} } @RELATIONS;
my %total = map { $_ => 0 } @TOTALS;
my ($before, $first, $last) = (0, '', '');
my ($pending, $pending_time) = (-1, '');

# Id of a key in table $t, counted $n times; -1 (and $n dropped) when the table is full.
sub key_id {
  my ($t, $k, $n) = @_;
  $n //= 1;
  my $id = $ids[$t]{$k};
  if (!defined $id) {
    if (@{$keys[$t]} >= ($MAX_KEYS{$TABLES[$t]} // $max_keys)) { $total{dropped} += $n; return -1 }
    $id = scalar @{$keys[$t]};
    $ids[$t]{$k} = $id;
    push @{$keys[$t]}, $k;
    push @{$counts[$t]}, 0;
  }
  $counts[$t][$id] += $n;
  return $id;
}

# The kernel's findByte: first $c in [$p, $e), else $e.
sub find {
  my ($l, $c, $p, $e) = @_;
  my $i = index($l, $c, $p);
  return $i < 0 || $i >= $e ? $e : $i;
}
sub at { my ($l, $i, $e) = @_; return $i >= $e ? "\n" : substr($l, $i, 1) }
sub is_field_token {
  my ($l, $s, $e) = @_;
  my $i = $s;
  $i++ while $i < $e && substr($l, $i, 1) =~ /[A-Za-z]/;
  return $i > $s && $i < $e && substr($l, $i, 1) eq '=';
}
sub address_end {
  my ($l, $p, $e, $colon) = @_;
  my $plain = find($l, ' ', $p, $e);
  $plain = find($l, ':', $p, $plain) if $colon;
  return $plain if find($l, '"', $p, $plain) >= $plain;
  my $quoted = 0;
  for (my $i = $p; $i < $e; $i++) {
    my $c = substr($l, $i, 1);
    if ($quoted) {
      if ($c eq '\\') { $i++ }
      elsif ($c eq '"') { $quoted = 0 }
    } elsif ($c eq '"') { $quoted = 1 }
    elsif ($c eq ' ' || ($colon && $c eq ':')) { return $i }
  }
  return $quoted ? $plain : $e;
}
sub user_end {
  my ($l, $p, $e) = @_;
  my $first_sp = find($l, ' ', $p, $e);
  my $sp = $first_sp;
  while ($sp < $e) {
    my $t = $sp + 1;
    my $tn = find($l, ' ', $t, $e);
    return $sp if is_field_token($l, $t, $tn) || ($tn - $t == 3 && substr($l, $t, 3) eq 'for');
    $sp = $tn;
  }
  return $first_sp;
}

# The fields of an arrival whose sender starts at $p, byte for byte as the kernel's
# parseArrival: (sender, ip, user, authenticator, AUTH id, subject, host seen, auth seen).
sub parse_exact {
  my ($l, $p, $e) = @_;
  my $sp = address_end($l, $p, $e, 0);
  my ($ip, $user, $aname, $aid, $subj);
  my ($host_seen, $has_auth, $rcpts) = (0, 0, 0);
  my $pos = $sp + 1;
  while ($pos < $e) {
    my $c0 = substr($l, $pos, 1);
    my $c1 = at($l, $pos + 1, $e);
    if ($c0 eq 'T' && $c1 eq '=' && at($l, $pos + 2, $e) eq '"') {
      my $i = $pos + 3;
      my $endq = $e;
      while ($i < $e) {
        my $q = find($l, '"', $i, $e);
        my $b = find($l, '\\', $i, $q);
        if ($b < $q) { $i = $b + 2; next }
        $endq = $q if $q < $e;
        last;
      }
      $subj = substr($l, $pos + 3, $endq - $pos - 3);
      $rcpts = words(substr($l, $endq + 6, $e - $endq - 6)) if $endq + 5 < $e && substr($l, $endq + 1, 5) eq ' for ';
      last;
    }
    my $next = find($l, ' ', $pos, $e);
    if ($next - $pos == 3 && substr($l, $pos, 3) eq 'for') {
      $rcpts = $next < $e ? words(substr($l, $next + 1, $e - $next - 1)) : 0;
      last;
    }
    if ($c1 eq '=') {
      if ($c0 eq 'H' && !$host_seen) {
        $host_seen = 1;
        my $t = $pos + 2;
        for (my $k = 0; $k < 3 && $t <= $e; $k++) {
          my $tn = find($l, ' ', $t, $e);
          if (at($l, $t, $e) eq '[') {
            my $close = find($l, ']', $t + 1, $tn);
            $ip = substr($l, $t + 1, $close - $t - 1) if $close < $tn;
            last;
          }
          last if $k > 0 && is_field_token($l, $t, $tn);
          $t = $tn + 1;
        }
      } elsif ($c0 eq 'U') {
        $next = user_end($l, $pos, $e);
        $user = substr($l, $pos + 2, $next - $pos - 2) unless defined $user;
      } elsif ($c0 eq 'A') {
        my $name_end = $pos + 2;
        $name_end++ while $name_end < $e && substr($l, $name_end, 1) ne ':' && substr($l, $name_end, 1) ne ' ';
        my ($stop, $id_end) = ($name_end, $name_end);
        if ($name_end < $e && substr($l, $name_end, 1) eq ':') {
          $stop = $id_end = address_end($l, $name_end + 1, $e, 1);
          $stop = address_end($l, $stop + 1, $e, 0) if $stop < $e && substr($l, $stop, 1) eq ':';
        }
        if (!$has_auth && $name_end > $pos + 2) {
          $has_auth = 1;
          $aname = substr($l, $pos + 2, $name_end - $pos - 2);
          $aid = $id_end > $name_end + 1 ? substr($l, $name_end + 1, $id_end - $name_end - 1) : undef;
        }
        $next = $stop;
      }
    } elsif ($c0 eq 'i' && $c1 eq 'd' && (at($l, $pos + 2, $e) eq '=' || (at($l, $pos + 2, $e) eq '*' && at($l, $pos + 3, $e) eq '='))) {
      $next = address_end($l, $pos, $e, 0);
    }
    $pos = $next + 1;
  }
  return (substr($l, $p, $sp - $p), $ip, $user, $aname, $aid, $subj, $host_seen, $has_auth, $rcpts);
}

# Space-separated words (the kernel's words): recipients after 'for'. Usually single spaces
# between them, then counting the spaces is enough.
sub words {
  my ($s) = @_;
  return 0 if $s eq '';
  return ($s =~ tr/ //) + 1 if index($s, '  ') < 0 && substr($s, 0, 1) ne ' ' && substr($s, -1) ne ' ';
  my $n = () = $s =~ /[^ ]+/g;
  return $n;
}

# The same fields, for the usual line: no quote before ' T="' and no backslash in the subject.
# Then every address is one space-separated token, and the fields are read token by token.
# Any other line goes to parse_exact.
sub parse_arrival {
  my ($l, $p, $e) = @_;
  my $tq = index($l, ' T="', $p);
  my $q = index($l, '"', $p);
  my $cq = -1;
  if ($tq >= 0) {
    return parse_exact($l, $p, $e) if $q != $tq + 3;
    $cq = index($l, '"', $tq + 4);
    my $bs = index($l, '\\', $tq + 4);
    return parse_exact($l, $p, $e) if $bs >= 0 && ($cq < 0 || $bs < $cq);
  } elsif ($q >= 0) {
    return parse_exact($l, $p, $e);
  }
  my @t = split(/ /, substr($l, $p, ($tq >= 0 ? $tq : $e) - $p), -1);
  my $n = @t;
  my ($ip, $user, $aname, $aid, $subj);
  my ($host_seen, $has_auth, $broke, $rcpts) = (0, 0, 0, 0);
  my $i = 1;
  while ($i < $n) {
    my $tok = $t[$i];
    if ($tok eq 'for') {
      # The recipients run to the line's end, past a subject if one follows.
      $broke = 1;
      my $after = $p + length(join(' ', @t[0 .. $i])) + 1;
      $rcpts = $after < $e ? words(substr($l, $after, $e - $after)) : 0;
      last;
    }
    if (length($tok) > 1 && substr($tok, 1, 1) eq '=') {
      my $c0 = substr($tok, 0, 1);
      if ($c0 eq 'H' && !$host_seen) {
        $host_seen = 1;
        # The first [..] among this value and the next two tokens (a field token ends the look).
        for (my $k = 0; $k < 3 && $i + $k < $n; $k++) {
          my $v = $k == 0 ? substr($tok, 2) : $t[$i + $k];
          if (substr($v, 0, 1) eq '[') {
            my $c = index($v, ']', 1);
            $ip = substr($v, 1, $c - 1) if $c > 0;
            last;
          }
          last if $k > 0 && $v =~ /^[A-Za-z]+=/;
        }
      } elsif ($c0 eq 'U') {
        # Up to the next field token or bare "for"; with none, this token only (the subject
        # token, when there is one, is a field token).
        my $j = $i + 1;
        $j++ while $j < $n && $t[$j] ne 'for' && $t[$j] !~ /^[A-Za-z]+=/;
        $j = $i + 1 if $j >= $n && $tq < 0;
        $user = substr(join(' ', @t[$i .. $j - 1]), 2) unless defined $user;
        $i = $j;
        next;
      } elsif ($c0 eq 'A' && !$has_auth) {
        my $c = index($tok, ':');
        my $name = $c < 0 ? substr($tok, 2) : substr($tok, 2, $c - 2);
        if ($name ne '') {
          $has_auth = 1;
          $aname = $name;
          if ($c >= 0) {
            my $c2 = index($tok, ':', $c + 1);
            my $id = $c2 < 0 ? substr($tok, $c + 1) : substr($tok, $c + 1, $c2 - $c - 1);
            $aid = $id if $id ne '';
          }
        }
      }
    }
    $i++;
  }
  if ($tq >= 0 && !$broke) {
    $subj = substr($l, $tq + 4, ($cq < 0 ? $e : $cq) - $tq - 4);
    $rcpts = words(substr($l, $cq + 6, $e - $cq - 6)) if $cq >= 0 && $cq + 5 < $e && substr($l, $cq + 1, 5) eq ' for ';
  }
  return ($t[0], $ip, $user, $aname, $aid, $subj, $host_seen, $has_auth, $rcpts);
}

# Arrivals are counted by their fields first: one hash increment per line, the tables are made
# from the distinct field tuples at the end (count_tuples), in order of first sight, so every
# key gets the id (and a full table drops the keys) it would get line by line.
my (%tuples, @tuple_order, %cwd_pairs);

# Joining (the kernel's join.ts): ranked arrivals by message id, and the (message, recipient)
# pairs counted as deferred; each a current and an older generation of at most $half entries.
my @memory = ([{}, {}], [{}, {}]);
sub remember {
  my ($m, $k, $v) = @_;
  rotate($m) if keys(%{$m->[0]}) >= $half && !exists $m->[0]{$k};
  $m->[0]{$k} = $v;
}
sub rotate {
  my ($m) = @_;
  $total{forgotten} += keys %{$m->[1]};
  $m->[1] = $m->[0];
  $m->[0] = {};
}
sub recall { my ($m, $k) = @_; return $m->[0]{$k} // $m->[1]{$k} }
# Joined deferrals and failures by sender and AUTH id string, in order of first sight (the
# tables are made in count_tuples, for the keys the sender and auth tables hold).
my @OUTCOMES = qw(sender_deferrals sender_failures auth_deferrals auth_failures);
my %outcomes = map { $_ => {} } @OUTCOMES;
my %outcome_order = map { $_ => [] } @OUTCOMES;

# A deferral or failure of message $id to the recipient at $p (to the first space).
sub outcome {
  my ($id, $deferral, $l, $p, $e) = @_;
  $total{$deferral ? 'deferrals' : 'failures'}++;
  my $m = recall($memory[0], $id);
  if (!defined $m) { $total{unjoined}++; return }
  if ($deferral) {
    my $r = substr($l, $p, find($l, ' ', $p, $e) - $p);
    $r =~ tr/A-Z/a-z/;
    my $k = "$id $r";
    return if defined recall($memory[1], $k);
    remember($memory[1], $k, 1);
  }
  # A flag, the cwd= directory's id + 1 (0: none), the sender's length, the sender, the AUTH id (see arrival).
  my ($cwd, $n) = unpack('N N', substr($m, 1, 8));
  my ($from_addr, $aid) = (substr($m, 9, $n), substr($m, 0, 1) eq 'A' ? substr($m, 9 + $n) : undef);
  my $kind = $deferral ? 'deferrals' : 'failures';
  my $t = "sender_$kind";
  push @{$outcome_order{$t}}, $from_addr if !$outcomes{$t}{$from_addr}++;
  if (defined $aid) {
    $t = "auth_$kind";
    push @{$outcome_order{$t}}, $aid if !$outcomes{$t}{$aid}++;
  }
  # The directory's counter is made here, as the kernel's (its keys exist from the cwd= line).
  key_id($tid{"cwd_$kind"}, $keys[$tid{cwd}][$cwd - 1], 1) if $cwd > 0;
}
# One arrival, as the kernel's arrival(). A new per-sender counter (declared in
# count-registry.ts) goes into its tuple here and into count_tuples (and the kernel's arrival).
sub arrival {
  my ($l, $p, $e, $id) = @_;
  my ($from_addr, $ip, $user, $aname, $aid, $subj, $host_seen, $has_auth, $rcpts) = parse_arrival($l, $p, $e);
  my $bounce = $from_addr eq '<>';
  my $cwd = -1;
  if (!$bounce && !$host_seen && $pending >= 0 && substr($l, 0, 19) eq $pending_time) {
    $cwd_pairs{pack('N a*', $pending, $from_addr)}++;
    $cwd = $pending;
    $pending = -1;
  }
  if ($host_seen && !$has_auth) {
    # Inbound mail from another server: counted, not ranked.
    $total{arrivals}++;
    $total{bounces}++ if $bounce;
    $total{incoming}++;
    return;
  }
  # A ranked arrival: remembered so that its deferrals and failures find it.
  # (Inline: one call per arrival costs perl a sub call per line of most of the log.)
  if (!$bounce) {
    my $m = $memory[0];
    rotate($m) if keys(%{$m->[0]}) >= $half && !exists $m->[0]{$id};
    $m->[0]{$id} = (defined $aid ? 'A' : '-') . pack('N N', $cwd + 1, length $from_addr) . $from_addr . ($aid // '');
    key_id($tid{cwd_rcpts}, $keys[$tid{cwd}][$cwd], $rcpts) if $cwd >= 0 && $rcpts > 0;
  }
  my $defined = (defined $ip ? 1 : 0) | (defined $user ? 2 : 0) | (defined $aid ? 4 : 0) | (defined $subj ? 8 : 0) | ($host_seen ? 16 : 0) | ($has_auth ? 32 : 0);
  my $k = pack('C N (N/a*)6', $defined, $rcpts, $from_addr, $ip // '', $user // '', $aname // '', $aid // '', $subj // '');
  push(@tuple_order, $k) if !$tuples{$k}++;
}

sub count_tuples {
  for my $k (@tuple_order) {
    my $n = $tuples{$k};
    my ($defined, $rcpts, $from_addr, $ip, $user, $aname, $aid, $subj) = unpack('C N (N/a*)6', $k);
    my $host_seen = $defined & 16;
    my $has_auth = $defined & 32;
    $total{arrivals} += $n;
    my $bounce = $from_addr eq '<>';
    $total{bounces} += $n if $bounce;
    if ($host_seen && !$has_auth) { $total{incoming} += $n; next }
    my $sender = $bounce ? -1 : key_id($tid{senders}, $from_addr, $n);
    my $ip_id = $defined & 1 ? key_id($tid{ips}, $ip, $n) : -1;
    my $auth = -1;
    if ($has_auth) {
      $total{auth} += $n;
      if ($defined & 4) { $auth = key_id($tid{auth}, $aid, $n) } else { $total{auth_without_id} += $n }
    }
    if ($ip_id >= 0) {
      $pairs[$rid{sender_ips}]{"$sender,$ip_id"} += $n if $sender >= 0;
      $pairs[$rid{auth_ips}]{"$auth,$ip_id"} += $n if $auth >= 0;
    }
    if ($auth >= 0) {
      my $name = key_id($tid{names}, $aname, $n);
      $pairs[$rid{auth_names}]{"$auth,$name"} += $n if $name >= 0;
    }
    if (!$host_seen) {
      $total{local} += $n;
      if ($defined & 2) {
        my $u = key_id($tid{users}, $user, $n);
        $pairs[$rid{user_senders}]{"$u,$sender"} += $n if $u >= 0 && $sender >= 0;
      }
    }
    if ($defined & 8 && !$bounce) {
      my $s = key_id($tid{subjects}, $subj, $n);
      $pairs[$rid{subject_senders}]{"$s,$sender"} += $n if $s >= 0 && $sender >= 0;
    }
    if (!$bounce && $rcpts > 0) {
      key_id($tid{sender_rcpts}, $from_addr, $n * $rcpts) if $sender >= 0;
      key_id($tid{auth_rcpts}, $aid, $n * $rcpts) if $auth >= 0;
    }
  }
  # Joined outcomes count for senders and AUTH ids that have a key (the kernel joins to the
  # ids an arrival got, -1 when its table was full).
  for my $t (@OUTCOMES) {
    my $of = $ids[$tid{$OF{$t}}];
    for my $k (@{$outcome_order{$t}}) { key_id($tid{$t}, $k, $outcomes{$t}{$k}) if defined $of->{$k} }
  }
  # A cwd= line's arrival counts for it when its sender has a key (as in the kernel, where
  # the sender is counted on that same line).
  for my $k (keys %cwd_pairs) {
    my ($cwd, $from_addr) = unpack('N a*', $k);
    my $sender = $ids[$tid{senders}]{$from_addr};
    $pairs[$rid{cwd_senders}]{"$cwd,$sender"} += $cwd_pairs{$k} if defined $sender;
  }
}

sub cwd_line {
  my ($l, $p, $e) = @_;
  # The path ends at the first " N args: ".
  my $rest = substr($l, $p, $e - $p);
  return unless $rest =~ / [0-9]+ args: /;
  my ($path_end, $args) = ($p + $-[0], $p + $+[0]);
  my @argv = split(/ /, substr($l, $args, $e - $args), -1);
  my $admin = 0;
  for my $i (1 .. $#argv) {
    my $a = $argv[$i];
    next unless length($a) >= 2 && substr($a, 0, 1) eq '-';
    my $c = substr($a, 1, 1);
    if ($c eq 'M' || $c eq 'q' || $c eq 'R') { $admin = 1; last }
    if ($c eq 'b') {
      my $d = length($a) > 2 ? substr($a, 2, 1) : '';
      if ($d ne 'm' && $d ne 's' && $d ne 'S' && $d ne 'n') { $admin = 1; last }
    }
  }
  if ($admin) { $total{admin}++; $pending = -1; return }
  $total{cwd}++;
  my $id = key_id($tid{cwd}, substr($l, $p, $path_end - $p));
  if ($id < 0) { $pending = -1; return }
  # A directory's first line (logs are read oldest first): its time's digits, as the kernel's.
  if ($counts[$tid{cwd}][$id] == 1) {
    (my $digits = substr($l, 0, 19)) =~ tr/0-9//cd;
    key_id($tid{cwd_first}, substr($l, $p, $path_end - $p), 0 + $digits);
  }
  $pending = $id;
  $pending_time = substr($l, 0, 19);
}

# One line that can count (it holds '<= ' or 'cwd=', and is not dated before the window).
sub count_line {
  my ($l) = @_;
  chop($l) if substr($l, -1) eq "\n";
  return unless $l =~ $PREFIX;
  my $tl = $+[0];
  my $e = length($l);
  if (substr($l, $tl, 4) eq 'cwd=') { cwd_line($l, $tl + 4, $e); return }
  return unless substr($l, $tl) =~ /^($ID) (<=|==|\*\*) /;
  my ($id, $flag, $at) = ($1, $2, $+[0] + $tl);
  if ($flag eq '<=') { arrival($l, $at, $e, $id) } else { outcome($id, $flag eq '==', $l, $at, $e) }
}

# A key that may decode to the same string as another (bytes that are not ASCII; a subject's
# escapes): it is kept whatever its count, as the scanner keeps it (rankable in mainlog-scan.ts).
sub may_merge { my ($k, $subjects) = @_; return $k =~ /[\x80-\xff]/ || ($subjects && index($k, '\\') >= 0) }

# Of @$ids (with counts $count->{id}), those that can be among the top $n once decoded: all
# when few, else the ones that may merge and those counted at least the n-th largest count.
sub rankable {
  my ($ids, $count, $t, $n, $subjects) = @_;
  return $ids if @$ids <= $n;
  my (@out, @plain);
  for my $id (@$ids) { if (may_merge($keys[$t][$id], $subjects)) { push @out, $id } else { push @plain, $id } }
  return $ids if @plain <= $n;
  my @sorted = sort { $b <=> $a } map { $count->{$_} } @plain;
  my $threshold = $sorted[$n - 1];
  push @out, grep { $count->{$_} >= $threshold } @plain;
  return \@out;
}

# The tables, gzipped, to $out; $start and $late describe the window read. Only what can reach
# the result's lists is sent: kilobytes, however many distinct keys the log holds.
sub emit_tables {
  my ($out, $start, $late) = @_;
  count_tuples();
  my @send = map { {} } @TABLES;
  my %kept;
  for my $name (@RANKED) {
    my $t = $tid{$name};
    my %count = map { $_ => $counts[$t][$_] } 0 .. $#{$keys[$t]};
    my $ids = rankable([0 .. $#{$keys[$t]}], \%count, $t, $limit, $SUBJECTS{$name});
    $kept{$name} = { map { $_ => 1 } @$ids };
    $send[$t]{$_} = 1 for @$ids;
  }
  # Keys that can rank by a counter (the most failing senders) are kept too, whatever their volume.
  for my $name (grep { $RANKS{$_} } @TABLES) {
    my $of = $OF{$name};
    for my $id (keys %{$kept{$name}}) {
      my $s = $ids[$tid{$of}]{$keys[$tid{$name}][$id]};
      $kept{$of}{$s} = $send[$tid{$of}]{$s} = 1 if defined $s;
    }
  }
  # The counters of the kept keys (of senders and AUTH ids).
  for my $name (grep { defined $OF{$_} } @TABLES) {
    my ($t, $of) = ($tid{$name}, $OF{$name});
    for my $id (0 .. $#{$keys[$t]}) { $send[$t]{$id} = 1 if $kept{$of}{$ids[$tid{$of}]{$keys[$t][$id]}} }
  }
  my @pair_lines;
  for my $r (0 .. $#RELATIONS) {
    my $rel = $RELATIONS[$r];
    my ($pt, $ct) = ($tid{$parent{$rel}}, $tid{$child{$rel}});
    my %children;
    while (my ($pc, $n) = each %{$pairs[$r]}) {
      my ($pid, $cid) = split(/,/, $pc);
      $children{$pid}{$cid} = $n if $kept{$parent{$rel}}{$pid};
    }
    for my $pid (keys %children) {
      my $c = $children{$pid};
      my $ids = $ALL_CHILDREN{$rel} || may_merge($keys[$pt][$pid], $SUBJECTS{$parent{$rel}})
        ? [keys %$c] : rankable([keys %$c], $c, $ct, $nested_limit, 0);
      for my $cid (@$ids) {
        push @pair_lines, "pair\t$rel\t$pid\t$cid\t$c->{$cid}\n";
        $send[$ct]{$cid} = 1;
      }
    }
  }
  my $z = IO::Compress::Gzip->new($out, -Level => 6) or do { print STDERR "gzip: $GzipError\n"; exit 3 };
  $z->print("start\t$start\nlate\t$late\nbefore\t$before\nfirst\t$first\nlast\t$last\n");
  $z->print("total\t$_\t$total{$_}\n") for sort keys %total;
  for my $t (0 .. $#TABLES) {
    my ($k, $c) = ($keys[$t], $counts[$t]);
    $z->print("key\t$TABLES[$t]\t$_\t" . unpack('H*', $k->[$_]) . "\t$c->[$_]\n") for sort { $a <=> $b } keys %{$send[$t]};
  }
  $z->print($_) for @pair_lines;
  $z->close();
}
# --- End of the counting core. ---
`;

/** Reads one main log: enters the window by binary search, as the local reader does. */
const SINGLE_FILE_PRELUDE = String.raw`
my ($file, $end, $from, $limits) = @ARGV;
$from = '' unless defined $from;
open(my $fh, '<:raw', $file) or do { print STDERR "cannot open $file: $!\n"; exit 2 };
$end = -s $fh if !defined($end) || $end eq '';

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

my $window = $from ne '' && $from ne '-';
my $start = 0;
if ($from eq '-') {
  $start = $end;    # no timestamp anywhere: an empty window
} elsif ($window) {
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
# The search trusts time order: lines of the window before $start say it was wrong here.
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
`;

const SINGLE_FILE_DRIVER = String.raw`
set_limits($limits);
# Most lines are deliveries: only lines with '<= ', '== ', '** ' or 'cwd=' can count, and only lines
# before the window need their date looked at.
seek($fh, $start, 0) or exit 4;
my $pos = $start;
while ($pos < $end) {
  my $l = <$fh>;
  last unless defined $l;
  $pos += length($l);
  if ($pos > $end) {
    $l = substr($l, 0, length($l) - ($pos - $end));
    $pos = $end;
  }
  if ($window && substr($l, 0, 19) lt $from && $l =~ $TS) { $before++; next }
  next if index($l, '<= ') < 0 && index($l, 'cwd=') < 0 && index($l, '== ') < 0 && index($l, '** ') < 0;
  count_line($l);
}

# The first and last timestamped lines of what was read (the scanner's first_time, last_time).
sub first_in {
  my ($lo, $hi) = @_;
  seek($fh, $lo, 0) or return '';
  my $p = $lo;
  while ($p < $hi) {
    my $l = <$fh>;
    last unless defined $l;
    $p += length($l);
    $l = substr($l, 0, length($l) - ($p - $hi)) if $p > $hi;
    chop($l) if substr($l, -1) eq "\n";
    return substr($l, 0, 19) if $l =~ $PREFIX;
  }
  return '';
}
sub last_in {
  my ($lo, $hi) = @_;
  my ($p, $carry) = ($hi, '');
  while ($p > $lo) {
    my $s = $p - 1048576 < $lo ? $lo : $p - 1048576;
    seek($fh, $s, 0) or return '';
    my $buf = '';
    read($fh, $buf, $p - $s) == $p - $s or return '';
    my @lines = split(/\n/, $buf . $carry, -1);
    # The block's first line may start in the block before.
    $carry = $s > $lo ? shift(@lines) : '';
    for (my $i = $#lines; $i >= 0; $i--) { return substr($lines[$i], 0, 19) if $lines[$i] =~ $PREFIX }
    $p = $s;
  }
  return $carry =~ $PREFIX ? substr($carry, 0, 19) : '';
}
$first = first_in($start, $end);
$last = $first eq '' ? '' : last_in($start, $end);
binmode(STDOUT);
emit_tables(\*STDOUT, $start, $late);
`;

export const MAINLOG_COUNT_PERL = LINE_RULES + SINGLE_FILE_PRELUDE + COUNT_CORE + SINGLE_FILE_DRIVER;
