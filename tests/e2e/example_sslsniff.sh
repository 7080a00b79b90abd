#!/usr/bin/env bash
# examples/sslsniff: a TLS 1.3 connection on loopback between
# `openssl s_server -rev` (answers each line reversed; closes on "CLOSE")
# and `openssl s_client` run under bpfx with sslsniff.bpf.o. Self-signed
# P-256 certificate made in a temp dir; 127.0.0.1 and a random high port.
# Checks: the client's plaintext appears in SSL_write records, exactly once
# (with a control byte shown as '.'); the server's reversed answers appear
# in SSL_read records with exact byte counts, a 301-byte answer shown as
# its first 256 bytes; the byte counts add up to what was sent and
# received; every record is the client's (comm openssl).
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
srv=
stop() {
	if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rm -rf "$tmp"
	cleanup
}
trap stop EXIT
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
for try in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	openssl s_server -accept "127.0.0.1:$port" -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
		-rev -naccept 1 >"$tmp/srv.out" 2>&1 </dev/null &
	srv=$!
	for i in $(seq 100); do
		grep -q '^ACCEPT' "$tmp/srv.out" && break
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.05
	done
	grep -q '^ACCEPT' "$tmp/srv.out" && break
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	srv=
done
[ -n "$srv" ] || { cat "$tmp/srv.out" >&2; fail "openssl s_server did not start"; }

long=$(printf '0123456789%.0s' $(seq 30))	# 300 bytes
ctl=$'tab\there ctl\001end'
printf '%s\n' "hello bpfx sslsniff" "$ctl" "$long" CLOSE >"$tmp/in"
out=$(timeout 30 "$BPFX" run "$BUILD/examples/sslsniff.bpf.o" \
	-- openssl s_client -connect "127.0.0.1:$port" -quiet <"$tmp/in" 2>"$tmp/err") ||
	{ cat "$tmp/err" >&2; fail "bpfx run failed"; }
echo "$out"
rev() { printf '%s' "$1" | LC_ALL=C command rev; }
count() { grep -cxF -- "$1" <<<"$out" || true; }

# Plaintext sent: once, in an SSL_write record (nowhere else prints it).
[ "$(count "hello bpfx sslsniff")" -eq 1 ] || fail "sent plaintext not captured once"
[ "$(count $'tab\there ctl.end')" -eq 1 ] || fail "control byte not shown as '.'"
# Answers: in an SSL_read record, and passed through as s_client prints them.
[ "$(count "$(rev "hello bpfx sslsniff")")" -eq 2 ] || fail "first answer not captured"
[ "$(count $'dne.ltc ereh\tbat')" -eq 1 ] || fail "second answer not captured"
grep -Eqx '[0-9]+ +openssl +SSL_read +20 bytes:' <<<"$out" || fail "no 20-byte SSL_read"
grep -Eqx '[0-9]+ +openssl +SSL_read +17 bytes:' <<<"$out" || fail "no 17-byte SSL_read"
grep -Eqx '[0-9]+ +openssl +SSL_read +301 bytes \(first 256\):' <<<"$out" ||
	fail "no truncated 301-byte SSL_read"
[ "$(count "$(rev "$long" | head -c 256)")" -eq 1 ] || fail "long answer: not its first 256 bytes"
# Byte counts add up: sent = the input; received = the answers (no CLOSE).
sum() { awk -v f="$1" '$3 == f && $5 ~ /^bytes/ { n += $4 } END { print n + 0 }' <<<"$out"; }
sent=$(wc -c <"$tmp/in")
[ "$(sum SSL_write)" -eq "$sent" ] || fail "SSL_write total $(sum SSL_write), want $sent"
[ "$(sum SSL_read)" -eq $((sent - 6)) ] || fail "SSL_read total $(sum SSL_read), want $((sent - 6))"
! grep -E '^[0-9]+ +[^ ]+ +SSL_(read|write) ' <<<"$out" | grep -vqE '^[0-9]+ +openssl ' ||
	fail "a record from something else than openssl"
"$BPFX" link list | grep -q "no links" || fail "links left behind"
echo PASS
