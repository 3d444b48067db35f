#!/usr/bin/perl
# Writes a tiny GeoIP2-Country-shaped .mmdb for the tests: each argument NETWORK=CC maps a network
# to a country. No real database is committed; the tests build this one when they run.
#   perl make_test_mmdb.pl OUT.mmdb 127.0.0.0/8=CN 10.200.2.0/24=NO
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, @mappings) = @ARGV;
die "usage: $0 OUT.mmdb NETWORK=CC...\n" unless $out && @mappings;

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => 'leakguard-test-country',
    languages             => ['en'],
    description           => { en => 'leakguard test database' },
    map_key_type_callback => sub { { country => 'map', iso_code => 'utf8_string' }->{ $_[0] } },
    remove_reserved_networks => 0,   # the tests use loopback and their own namespace addresses
    alias_ipv6_to_ipv4    => 1,
);
for my $mapping (@mappings) {
    my ($network, $country) = split /=/, $mapping;
    $tree->insert_network($network, { country => { iso_code => $country } });
}
open my $fh, '>:raw', $out or die "cannot write $out: $!";
$tree->write_tree($fh);
close $fh;
