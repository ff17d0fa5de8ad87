#!/usr/bin/env bash
# Verifies the bundled example requests with the bundled test keys and prints each verdict.
# The requests were signed by the Mojaloop SDK on 13 May 2026, so they are verified at that
# time (--at). The keys are throwaway test keys.
set -uo pipefail
bin=${1:-target/release/fspiop-guard}
filter=$(realpath "${2:-target/filter/fspiop_guard_envoy_filter.wasm}")
bin=$(realpath "$bin")
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

# The same requests through the Envoy filter module, in the wasmtime proxy-wasm host.
# The filter fetches its keys from a key endpoint, which replay answers with a key-set file.
replay() {
    local title=$1 keyset=$2
    printf '\n=== %s\n$ fspiop-guard replay --filter %s --config examples/filter/config.json \\\n    --keyset examples/filter/%s --at %s examples/requests/*.http\n' \
        "$title" "$filter" "$keyset" "$at"
    (cd "$here/.." && "$bin" replay --filter "$filter" --config examples/filter/config.json \
        --keyset "examples/filter/$keyset" --at "$at" examples/requests/*.http)
    echo "(exit code $?)"
}

replay "The Envoy filter, with every participant's current key" keyset.json
replay "The Envoy filter after payerfsp's rotation: its old key retired on 2026-05-10" \
    keyset-after-rotation.json
exit 0
