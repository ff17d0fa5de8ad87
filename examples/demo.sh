#!/usr/bin/env bash
# Verifies the bundled example requests with the bundled test keys and prints each verdict.
# The requests were signed by the Mojaloop SDK on 13 May 2026, so they are verified at that
# time (--at). The keys are throwaway test keys.
set -uo pipefail
bin=${1:-target/release/fspiop-guard}
here=$(cd "$(dirname "$0")" && pwd)
at=2026-05-13T14:39:12Z

run() {
    local title=$1 request=$2 keys=$3
    printf '\n=== %s\n$ fspiop-guard verify --request %s --keys %s --at %s\n' \
        "$title" "examples/requests/$request" "examples/$keys" "$at"
    "$bin" verify --request "$here/requests/$request" --keys "$here/$keys" --at "$at"
    echo "(exit code $?)"
}

run "A quote request signed by the SDK 19.19 signer" 01-valid-post-quotes.http keys
run "A transfer callback" 02-valid-put-transfers.http keys
run "An ES256 (P-256) signature" 03-valid-es256-transfer.http keys
run "A Hub callback signed by the Hub's getSignature path" 04-valid-hub-callback.http keys
run "A body re-serialised in transit: only a canonical form matches" 05-reserialised-body.http keys
run "A tampered body" 06-tampered-body.http keys
run "An FSPIOP-URI header rewritten by a proxy" 07-rewritten-fspiop-uri.http keys
run "Signed with payerfsp's old key, retired on 2026-05-10 after a rotation" \
    08-rotated-out-key.http keys-after-rotation.json
exit 0
