#!/usr/bin/env bash
# Regenerates the TLS test captures of tests/data/tls with real tools, on loopback only.
#
#   bash tests/data/tls/make_tls_captures.sh        (as root: nginx binds 127.0.0.77:443 and :80, tcpdump needs lo;
#                                                    --immediate-mode: without it this VM's tcpdump wrote no packets)
#
# What it makes:
#   https.pcap     curl -> nginx over TLS on 127.0.0.77:443, SNI "app.test":
#                  conn 1: HTTP/2, TLS 1.3, cookie engine: GET /login (2x Set-Cookie), GET /app?x=1, GET /static/a.css
#                          with "cookie: SERVERID=s1; JSESSIONID=ABC.node1" sent back (one header);
#                  conn 2: HTTP/2, TLS 1.3, two "cookie" header fields (RFC 9113 §8.2.3 crumbs), GET /app?crumbs=1;
#                  conn 3: HTTP/1.1, TLS 1.2 (CLIENT_RANDOM key line), keep-alive: GET /login, GET /missing (404)
#                          with the cookies sent back.
#   https.keys     the SSLKEYLOGFILE curl wrote for https.pcap (NSS key log format).
#   other.keys     a key log of a separate, uncaptured curl run: well-formed keys that match nothing in https.pcap.
#   http_plain.pcap the conn-3 exchange over cleartext HTTP/1.1 on 127.0.0.77:80 (scheme http).
#
# The client binds 127.0.0.66 and the server listens on 127.0.0.77, so the tcpdump filter keeps only this
# script's traffic even when other loopback services run. Every wait is bounded; every process started here
# is stopped by its PID at the end (trap).
set -euo pipefail

OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/sf-tls-XXXXXX)
SERVER=127.0.0.77
CLIENT=127.0.0.66
NGINX_PID=""
TCPDUMP_PID=""

cleanup() {
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=app.test" \
    -addext "subjectAltName=DNS:app.test" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

cat >"$WORK/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/body;
    proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi;
    scgi_temp_path $WORK/scgi;
    server_tokens off;
    keepalive_requests 100;
    server {
        listen $SERVER:443 ssl http2;
        listen $SERVER:80;
        server_name app.test;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        default_type text/plain;
        location = /login {
            add_header Set-Cookie "SERVERID=s1; path=/";
            add_header Set-Cookie "JSESSIONID=ABC.node1; Path=/; HttpOnly";
            return 200 "login ok\n";
        }
        location /app { return 200 "app page\n"; }
        location /static/ { return 200 "body{}\n"; }
        location / { return 404 "not here\n"; }
    }
}
EOF

nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do  # bounded: 5 s
    curl -s -o /dev/null --max-time 1 --interface "$CLIENT" "http://$SERVER/app" && break
    sleep 0.1
done

start_tcpdump() {  # $1: output file
    : >"$WORK/tcpdump.err"
    tcpdump -i lo --immediate-mode -U -s 0 -w "$1" "host $SERVER and host $CLIENT and tcp" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    for _ in $(seq 50); do  # bounded: 5 s until "listening on lo"
        grep -q "listening on" "$WORK/tcpdump.err" && return 0
        sleep 0.1
    done
    echo "tcpdump did not start" >&2
    return 1
}

stop_tcpdump() {
    sleep 0.3  # let the last FIN/ACKs reach the capture
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" 2>/dev/null || true
    TCPDUMP_PID=""
}

# Every body goes to stdout, which is thrown away (-o applies to one URL only).
CURL=(curl -s --max-time 5 --interface "$CLIENT" --resolve "app.test:443:$SERVER" -k)
BASE="https://app.test"

# A separate uncaptured run: its key log is well-formed but belongs to other connections.
SSLKEYLOGFILE="$WORK/other.keys" "${CURL[@]}" --http2 "$BASE/app?other=1" >/dev/null

rm -f "$WORK/https.keys"
start_tcpdump "$WORK/https.pcap"
export SSLKEYLOGFILE="$WORK/https.keys"
"${CURL[@]}" --http2 -c "$WORK/jar1" "$BASE/login" "$BASE/app?x=1" "$BASE/static/a.css" >/dev/null
"${CURL[@]}" --http2 -H "Cookie: SERVERID=s1" -H "Cookie: JSESSIONID=ABC.node1" "$BASE/app?crumbs=1" >/dev/null
"${CURL[@]}" --http1.1 --tls-max 1.2 -b "$WORK/jar1" -c "$WORK/jar1" "$BASE/login" "$BASE/missing" >/dev/null
unset SSLKEYLOGFILE
stop_tcpdump

start_tcpdump "$WORK/http_plain.pcap"
curl -s --max-time 5 --interface "$CLIENT" --resolve "app.test:80:$SERVER" --http1.1 \
    -c "$WORK/jar3" "http://app.test/login" "http://app.test/missing" >/dev/null
stop_tcpdump

cp "$WORK/https.pcap" "$WORK/https.keys" "$WORK/other.keys" "$WORK/http_plain.pcap" "$OUT/"
ls -l "$OUT"/https.pcap "$OUT"/https.keys "$OUT"/other.keys "$OUT"/http_plain.pcap
