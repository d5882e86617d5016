#!/usr/bin/perl
# Interop scenario 3: Net::SMPP (Debian's libnet-smpp-perl) as a second independent ESME, through
# the real proxy to the carrier simulator (`smppguard smsc-sim`).
#
#   perl net_smpp_esme.pl --proxy-port P --sim-http-port H [--system-id app1 --password pw1]
# (or INTEROP_PROXY_PORT, INTEROP_SIM_HTTP_PORT, INTEROP_SYSTEM_ID, INTEROP_PASSWORD)
#
# Prints one line per check; exits 0 only when all passed. Started by interop_test.cpp (suite
# perl_esme). Net::SMPP is synchronous: every read is bounded by SO_RCVTIMEO on its socket (an
# alarm would not do: Net::SMPP's read loop resets alarm() and turns SIGALRM into enquire_link).
use strict;
use warnings;
use Net::SMPP;
use HTTP::Tiny;
use JSON::PP;
use Socket qw(SOL_SOCKET SO_RCVTIMEO);

my %opt;
for (my $i = 0; $i < @ARGV; ++$i) {
  if ($ARGV[$i] =~ /^--([\w-]+)=(.*)$/) { $opt{$1} = $2; }
  elsif ($ARGV[$i] =~ /^--([\w-]+)$/ && $i + 1 < @ARGV) { $opt{$1} = $ARGV[++$i]; }
}
sub arg {
  my ($name, $fallback) = @_;
  return $opt{$name} if defined $opt{$name};
  (my $env = 'INTEROP_' . uc $name) =~ s/-/_/g;
  return $ENV{$env} if defined $ENV{$env} && $ENV{$env} ne '';
  return $fallback if defined $fallback;
  die "missing --$name (or $env)\n";
}

my $proxy_port = arg('proxy-port');
my $sim_http = arg('sim-http-port');
my $system_id = arg('system-id', 'app1');
my $password = arg('password', 'pw1');
my $short_code = arg('short-code', '12345');   # program acme-alerts
my $subscriber = '15557654321';                 # opts in during the test
my $stranger = '15557650000';                   # never opts in
my $quitter = '15557659999';                    # texts STOP

$| = 1;
my ($passed, $failed) = (0, 0);
sub check {
  my ($ok, $what, $detail) = @_;
  if ($ok) { ++$passed; print "ok   - $what\n"; }
  else { ++$failed; print "FAIL - $what" . (defined $detail ? ": $detail" : '') . "\n"; }
  return $ok;
}
sub show { my $v = shift; return defined $v ? "'$v'" : 'undef'; }
sub check_eq {
  my ($got, $want, $what) = @_;
  return check(defined $got && $got eq $want, "$what = '$want'", 'got ' . show($got));
}
sub hex8 { my $v = shift; return defined $v ? sprintf('0x%08X', $v) : 'undef'; }

my $http = HTTP::Tiny->new(timeout => 20);
my $json = JSON::PP->new->utf8->canonical;
sub sim {
  my ($method, $path, $body) = @_;
  my $r = $http->request($method, "http://127.0.0.1:$sim_http$path",
                         defined $body ? {content => $json->encode($body),
                                          headers => {'Content-Type' => 'application/json'}} : {});
  my $decoded = eval { $json->decode($r->{content}) };
  return ($r->{status}, $decoded);
}

# A connected Net::SMPP object (not yet bound) whose reads give up after 10 s.
sub connect_smpp {
  my $smpp = Net::SMPP->new_connect('127.0.0.1', port => $proxy_port, system_id => $system_id,
                                    password => shift // $password, timeout => 10,
                                    smpp_version => 0x34)
    or die "cannot connect to the proxy on port $proxy_port: $!\n";
  $smpp->setsockopt(SOL_SOCKET, SO_RCVTIMEO, pack('l!l!', 10, 0))
    or die "setsockopt SO_RCVTIMEO: $!\n";
  return $smpp;
}

sub submit {
  my ($smpp, $dest, $text, @more) = @_;
  return $smpp->submit_sm(source_addr_ton => 3, source_addr_npi => 0, source_addr => $short_code,
                          dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $dest,
                          short_message => $text, @more);
}

my $deadline = time + 150;
eval {
  print "# interop: Net::SMPP $Net::SMPP::VERSION ESME -> smppguard -> smsc-sim\n";

  print "# a wrong password\n";
  my $bad = connect_smpp('wrong');
  my $bad_resp = $bad->bind_transmitter();
  check(defined $bad_resp, 'bind_transmitter with a wrong password is answered');
  check_eq(hex8($bad_resp && $bad_resp->{status}), '0x0000000E', 'its status (ESME_RINVPASWD)');
  $bad->close;

  print "# bind_transmitter\n";
  my $smpp = connect_smpp();
  my $bind = $smpp->bind_transmitter();
  die "no bind_transmitter_resp\n" unless $bind;
  check_eq($bind->{status}, 0, 'bind_transmitter_resp status');
  check(length($bind->{system_id} // '') > 0, 'bind_transmitter_resp system_id ' . show($bind->{system_id}));
  check_eq(defined $bind->{sc_interface_version} ? unpack('C', $bind->{sc_interface_version}) : undef,
           0x34, 'sc_interface_version TLV (Net::SMPP binds with interface_version 0x34)');

  print "# an MT to a subscriber without consent\n";
  my $refused = submit($smpp, $stranger, 'no consent yet');
  die "no submit_sm_resp\n" unless $refused;
  check_eq(hex8($refused->{status}), '0x00000401', 'submit_sm_resp status as Net::SMPP reports it (no_consent)');
  check_eq($refused->{message_id} // '', '', 'no message id in the refusal');
  {
    # Net::SMPP's status table stops at the SMPP 3.4 codes: it explains 0x401 with an empty name
    # (and warns about it).
    local $SIG{__WARN__} = sub {};
    print '# Net::SMPP explain_status: ', $refused->explain_status, "\n";
  }

  print "# the subscriber texts START (simulator MO)\n";
  my ($st, $mo) = sim('POST', '/mo', {from => "+$subscriber", to => $short_code, text => 'START'});
  check_eq($st, 200, 'POST /mo START');
  check_eq($mo && $mo->{status}, 0, 'the proxy answered the START with status');

  print "# submit_sm after consent\n";
  my $text = 'Net::SMPP says hello';
  my $resp = submit($smpp, $subscriber, $text, user_message_reference => pack('n', 7));
  die "no submit_sm_resp\n" unless $resp;
  check_eq(hex8($resp->{status}), '0x00000000', 'submit_sm_resp status');
  my $id = $resp->{message_id} // '';
  check(length $id, "submit_sm_resp message_id '$id'");
  my ($ms, $msgs) = sim('GET', '/messages');
  my @at_sim = grep { $_->{command} eq 'submit_sm' && $_->{text} eq $text } @{$msgs // []};
  check_eq(scalar @at_sim, 1, 'the MT reached the simulator once');
  if (@at_sim) {
    my $m = $at_sim[0];
    check($m->{message_id} ne '' && $m->{message_id} ne $id,
          "the ESME got the proxy id, not the simulator's ($m->{message_id})");
    check_eq($m->{source_addr_ton} . '/' . $m->{source_addr_npi} . '/' . $m->{source_addr},
             "3/0/$short_code", 'source address at the simulator as the ESME sent it');
    check_eq(join(',', map { "$_->{tag}=$_->{value_hex}" } @{$m->{tlvs}}), '516=0007',
             'user_message_reference TLV at the simulator');
  }

  print "# an opted-out subscriber\n";
  ($st, $mo) = sim('POST', '/mo', {from => "+$quitter", to => $short_code, text => 'STOP'});
  check_eq($st, 200, 'POST /mo STOP');
  my $out = submit($smpp, $quitter, 'after STOP');
  check_eq(hex8($out && $out->{status}), '0x00000400', 'submit_sm_resp status (opted_out)');

  print "# enquire_link, unbind\n";
  my $el = $smpp->enquire_link();
  check(defined $el, 'enquire_link answered');
  check_eq($el && $el->{status}, 0, 'enquire_link_resp status');
  my $ub = $smpp->unbind();
  check(defined $ub, 'unbind answered');
  check_eq($ub && $ub->{status}, 0, 'unbind_resp status');
  $smpp->close;
  1;
} or do {
  ++$failed;
  print "FAIL - stopped: $@";
};
check(time <= $deadline, 'finished within 150 s');
print "# $passed checks passed, $failed failed\n";
exit($failed ? 1 : 0);
