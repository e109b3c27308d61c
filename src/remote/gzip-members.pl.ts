/**
 * A gzip log read member by member through zlib, in perl on the target, for every perl script
 * that reads logs there (rotated-count.pl.ts, history-filter.pl.ts): each member's CRC and size
 * are checked, and where its gzip data ends is known, so bytes after the last member that are no
 * gzip data (trailing garbage) are not read and are counted in {garbage}; zero padding is
 * ignored. The native counter (native/mainlog-count.c) and node (investigate/mainlog-gzip.ts)
 * frame members the same way. Compress::Raw::Zlib is core perl.
 *
 * gz_state(FH, FILE) makes the reader of an open handle; gz_line gives its next line (the last
 * one without its newline), gz_block up to N bytes; both give undef or '' at the end and die
 * with "FILE: reason" when the gzip data is broken.
 */
export const GZIP_MEMBERS_PERL = String.raw`
use Compress::Raw::Zlib;

sub gz_state {
  my ($fh, $file) = @_;
  return { fh => $fh, file => $file, in => '', out => '', at => 0, scan => 0, inf => undef, members => 0, eof => 0, done => 0, garbage => 0 };
}

sub gz_read {
  my ($g) = @_;
  my $n = read($g->{fh}, my $buf, 256 * 1024);
  die "$g->{file}: cannot read: $!\n" unless defined $n;
  $g->{eof} = 1 if $n == 0;
  return $n == 0 ? '' : $buf;
}

# Decompress some more into {out}, or find the end; dies with the reason when gzip data is broken.
sub gz_more {
  my ($g) = @_;
  my $file = $g->{file};
  $g->{in} .= gz_read($g) if !$g->{eof} && length($g->{in}) < 64 * 1024;
  if (!defined $g->{inf}) {
    # Between members: another one, the end, or bytes that are no gzip data.
    return if length($g->{in}) < 2 && !$g->{eof};
    if ($g->{in} eq '') { $g->{done} = 1; return }
    if (substr($g->{in}, 0, 2) ne "\x1f\x8b") {
      die "$file: corrupt or truncated gzip data (incorrect header check)\n" if $g->{members} == 0;
      my $rest = length($g->{in});
      my $zeros = $g->{in} !~ /[^\0]/;
      while (!$g->{eof}) { my $b = gz_read($g); $rest += length($b); $zeros = 0 if $b =~ /[^\0]/ }
      $g->{garbage} = $rest unless $zeros;
      $g->{in} = '';
      $g->{done} = 1;
      return;
    }
    my ($inf, $status) = Compress::Raw::Zlib::Inflate->new(-WindowBits => WANT_GZIP, -LimitOutput => 1, -ConsumeInput => 1, -AppendOutput => 1, -Bufsize => 64 * 1024);
    die "$file: cannot read: $status\n" unless $inf;
    $g->{inf} = $inf;
    $g->{members}++;
  }
  my $status = $g->{inf}->inflate($g->{in}, $g->{out});
  if ($status == Z_STREAM_END) { $g->{inf} = undef; return }
  return if $status == Z_OK;
  if ($status == Z_BUF_ERROR) {
    # More input wanted: at the end of the file, the gzip data was cut short.
    die "$file: corrupt or truncated gzip data (unexpected end of file)\n" if $g->{eof} && length($g->{in}) == 0;
    return;
  }
  my $why = $g->{inf}->msg();
  $why = "$status" unless defined $why && $why ne '';
  $why =~ s/[\r\n\t]+/ /g;
  die "$file: corrupt or truncated gzip data ($why)\n";
}

# The next line of a gzip log (the last one without its newline at the end), or undef.
sub gz_line {
  my ($g) = @_;
  while (1) {
    my $nl = index($g->{out}, "\n", $g->{scan});
    if ($nl >= 0) {
      my $line = substr($g->{out}, $g->{at}, $nl + 1 - $g->{at});
      $g->{at} = $g->{scan} = $nl + 1;
      return $line;
    }
    # Taken lines are cut off the buffer a block at a time, not one by one.
    if ($g->{at} > 0) { substr($g->{out}, 0, $g->{at}, ''); $g->{at} = 0 }
    $g->{scan} = length($g->{out});
    if ($g->{done}) {
      return undef if $g->{out} eq '';
      my $line = $g->{out};
      $g->{out} = '';
      $g->{scan} = 0;
      return $line;
    }
    gz_more($g);
  }
}

# Up to $max bytes of a gzip log's data, '' at its end (not mixed with gz_line on one reader).
sub gz_block {
  my ($g, $max) = @_;
  gz_more($g) while length($g->{out}) < $max && !$g->{done};
  return substr($g->{out}, 0, $max, '');
}
`;
