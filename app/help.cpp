// The help text of every subcommand: `leakguard COMMAND --help` and `leakguard help COMMAND` print
// it, and the man pages (leakguard-COMMAND(1)) are rendered from that output by help2man
// (scripts/man.sh), so the manual and the binary's help are one text and cannot drift apart.
// help2man turns "Options:", "Exit status:" and the like at the left margin into man sections, and
// "  -x, --long ARG  text" lines into option entries.
#include <cstdio>
#include <string_view>

#include "app/commands.hpp"

namespace leakguard {

namespace {

struct CommandHelp {
  std::string_view name;
  std::string_view summary;  // the man page's NAME line
  std::string_view text;
};

constexpr CommandHelp helps[] = {
    {"run", "run the leakguard proxy",
     "Usage: leakguard run [-c FILE]\n"
     "Run the proxy: listen, inspect every request for the phones' identifiers, log, block or redact\n"
     "them as the rules say, and write JSON Lines events (events.path; \"-\" is standard output).\n"
     "Without -c the embedded default configuration is used (loopback only, log mode, no TLS\n"
     "interception).\n"
     "\n"
     "Options:\n"
     "  -c, --config FILE  the YAML configuration (check it first with leakguard check-config)\n"
     "\n"
     "Signals:\n"
     "  SIGINT, SIGTERM    stop accepting, let exchanges in flight finish within\n"
     "                     limits.shutdown_grace_ms, flush the events and exit 0\n"
     "  SIGHUP             reload the configuration file; a bad file is refused and the running\n"
     "                     configuration stays\n"
     "  SIGUSR1            reopen the event file (after logrotate moved it)\n"
     "\n"
     "TLS interception:\n"
     "  With tls.intercept set, the CA in tls.ca_dir must exist and its key must be readable by\n"
     "  the owner only; run refuses to start otherwise and names the command that creates it:\n"
     "  leakguard ca init --dir DIR.\n"
     "\n"
     "Exit status:\n"
     "  0 stopped by a signal, 1 a CA or listening error, 2 a usage or configuration error.\n"},
    {"scan", "inspect captured bytes offline with leakguard's detectors",
     "Usage: leakguard scan [-c FILE] [--device NAME] FILE...\n"
     "Run the proxy's detectors over captured client-to-server bytes and write the findings as JSON\n"
     "Lines. The format is told from the content: a pcap or pcapng packet capture (TCP flows\n"
     "reassembled, each client stream inspected as HTTP/1.x, TLS ClientHello or raw bytes, clients\n"
     "matched to device profiles by address or MAC), a HAR file (every request entry inspected), or\n"
     "one connection's HTTP/1.x requests or raw bytes per file. '-' reads standard input. A bad or\n"
     "cut file is named with what and where on standard error, after the findings before it.\n"
     "\n"
     "Options:\n"
     "  -c, --config FILE  the configuration whose device profiles and detector options apply\n"
     "  --device NAME      inspect as this device profile (in a capture: clients matching none)\n"
     "\n"
     "Exit status:\n"
     "  0 nothing found, 1 findings or anomalies (a capture_gap among them), 2 an error (a broken\n"
     "  or truncated file: the findings before the error are written).\n"},
    {"check-config", "validate a leakguard configuration file",
     "Usage: leakguard check-config FILE\n"
     "Load FILE exactly as run would (every key, the detectors' options, the GeoIP database) and print\n"
     "\"FILE: ok\", or \"FILE:LINE:COLUMN: what is wrong\" on standard error.\n"
     "\n"
     "Exit status:\n"
     "  0 valid, 1 invalid, 2 a usage error.\n"},
    {"ca", "create the TLS interception CA of leakguard",
     "Usage: leakguard ca init [--dir DIR] [--rsa] [--force]\n"
     "Create the certificate authority that signs the certificates leakguard forges for intercepted\n"
     "TLS: ca.key (mode 0600), ca.pem, ca.der and <hash>.0 for the Android system store. The phones\n"
     "under test must trust ca.pem. Nothing creates a CA implicitly: the service refuses to intercept\n"
     "until this has been run.\n"
     "\n"
     "Options:\n"
     "  --dir DIR          where to write the CA (default: ./certs; the Debian package's\n"
     "                     configuration uses /var/lib/leakguard/certs)\n"
     "  --rsa              RSA-2048 instead of EC P-256\n"
     "  --force            replace an existing ca.key\n"
     "\n"
     "Exit status:\n"
     "  0 created, 1 an error (an existing key without --force included), 2 a usage error.\n"},
    {"firewall", "nftables rules that send clients' TCP through leakguard",
     "Usage: leakguard firewall print|apply|remove --interface IF [--port PORT | -c FILE]\n"
     "                          [--ports P1,P2,...] [--tproxy] [--keep-quic] [--dns-port PORT] [--keep-dot]\n"
     "print shows, apply loads (idempotent, as root) and remove deletes the nftables rules that\n"
     "redirect the TCP of the clients on IF to leakguard and drop their QUIC (UDP 443), leaving\n"
     "leakguard's own upstream connections alone. With a DNS port (dns.listen in -c FILE, or\n"
     "--dns-port) their DNS (UDP and TCP 53) goes to leakguard's forwarder and DNS over TLS or QUIC\n"
     "(port 853) is dropped, so phones fall back to plain DNS.\n"
     "\n"
     "Options:\n"
     "  --interface IF     the interface the phones are on (wlan0, br-lan, ...)\n"
     "  --port PORT        leakguard's listening port (default: from -c FILE, else 8080)\n"
     "  -c FILE            take the ports from a leakguard configuration (listen, dns.listen)\n"
     "  --ports LIST       intercept only these TCP destination ports (default: all)\n"
     "  --tproxy           TPROXY instead of REDIRECT (run leakguard with transparent: tproxy)\n"
     "  --keep-quic        do not drop UDP 443 from clients\n"
     "  --dns-port PORT    send the clients' DNS to leakguard's forwarder on PORT\n"
     "  --keep-dot         with DNS rules, do not drop port 853 (DNS over TLS / QUIC)\n"
     "\n"
     "Exit status:\n"
     "  0 done, 1 nft failed, 2 a usage error.\n"},
    {"report", "what each phone leaked, from leakguard's event logs",
     "Usage: leakguard report [-c FILE] [--home-country XX] [--format html|md|json] [-o FILE] EVENTS...\n"
     "       leakguard report [options] --baseline OLD... -- NEW...\n"
     "Read event logs (gzip-compressed rotated logs too; '-' is standard input) and report, per\n"
     "device, destination and identifier kind, counts, first and last seen, transports, actions and\n"
     "a severity. `leakguard scan` output is read the same way. With --baseline, compare two firmware\n"
     "batches.\n"
     "\n"
     "Options:\n"
     "  -c FILE            take home_country from a leakguard configuration\n"
     "  --home-country XX  the lab's country (ISO 3166 alpha-2); overrides -c\n"
     "  --format F         html, md or json (default: from -o's extension, else md)\n"
     "  -o FILE            write there instead of standard output\n"
     "  --baseline OLD...  the logs of the previous batch, ended by --\n"
     "\n"
     "Exit status:\n"
     "  0 ok or no regression, 1 the new batch leaks something the baseline did not, 2 an error.\n"},
};

}  // namespace

bool print_command_help(std::string_view name) {
  for (const auto& help : helps)
    if (help.name == name) {
      std::fwrite(help.text.data(), 1, help.text.size(), stdout);
      return true;
    }
  return false;
}

void print_command_list() {
  // One "NAME<TAB>SUMMARY" line per command: scripts/man.sh makes one man page of each.
  for (const auto& help : helps)
    std::printf("%.*s\t%.*s\n", static_cast<int>(help.name.size()), help.name.data(),
                static_cast<int>(help.summary.size()), help.summary.data());
}

}  // namespace leakguard
