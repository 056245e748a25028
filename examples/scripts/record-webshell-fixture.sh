#!/bin/sh
# Records examples/fixtures/webshell.kmon, the capture the shell-from-web-server
# example is tested on: a real lighttpd (Debian package) serving a CGI script
# run by /bin/sh, requested twice, and a static page; plus a shell started by
# this script (not by a web server), which must not be reported.
# Needs root (BPF), lighttpd and curl; run from the repository root after `pnpm build`.
set -eu
out=${1:-examples/fixtures/webshell.kmon}
root=$(mktemp -d)
mkdir -p "$root/htdocs/cgi-bin"
printf 'hello\n' > "$root/htdocs/index.html"
printf 'echo "Content-Type: text/plain"; echo; id\n' > "$root/htdocs/cgi-bin/run.sh"
cat > "$root/lighttpd.conf" <<CONF
server.document-root = "$root/htdocs"
server.port = 8931
server.bind = "127.0.0.1"
server.modules = ("mod_cgi")
cgi.assign = (".sh" => "/bin/sh")
CONF

node packages/cli/dist/bin.js record -o "$out" --kinds exec,exit,fork --duration 5 -q 2> "$root/record.log" &
recorder=$!
until grep -q recording "$root/record.log"; do sleep 0.1; done   # attached
lighttpd -D -f "$root/lighttpd.conf" &
server=$!
sleep 0.5
curl -s http://127.0.0.1:8931/index.html > /dev/null
curl -s http://127.0.0.1:8931/cgi-bin/run.sh?x=1 > /dev/null
curl -s http://127.0.0.1:8931/cgi-bin/run.sh?x=2 > /dev/null
sh -c 'echo a shell that no web server started' > /dev/null
kill "$server"
wait "$recorder"
cat "$root/record.log" >&2
rm -rf "$root"
