//! The steps of `verify()` that are not signature arithmetic, each timed alone on the
//! RS256 (RSA-2048) request of the `verify` benchmarks.
//!
//! Their sum approximates what `verify/rs256-2048/<size>/strict` costs beyond `ring`,
//! and `body-parse` what `mojaloop-sdk` adds on top of `strict`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fspiop_guard_core::body;
use fspiop_guard_core::header::{ProtectedHeader, SignatureHeader};
use fspiop_guard_core::profile::Limits;
use fspiop_guard_core::verdict::{Check, CheckId, Outcome};
use fspiop_guard_core::verify::signing_input;

use fixtures::Body;

/// Headers `verify()` reads, in its order, for a request that passes every check.
const HEADER_LOOKUPS: [&str; 6] = [
    "fspiop-source",
    "fspiop-signature",
    "fspiop-uri",
    "fspiop-http-method",
    "date",
    "fspiop-destination",
];

fn pieces_groups(c: &mut Criterion) {
    let key = fixtures::rsa_2048();
    bench_pieces(c, &key, &fixtures::transfer_1kb());
    bench_pieces(c, &key, &fixtures::bulk_transfer_100kb());
}

fn bench_pieces(c: &mut Criterion, key: &fixtures::TestKey, body: &Body) {
    let case = fixtures::sign_case(key, body);
    let limits = Limits::default();
    let request = &case.request;
    let header_value = request
        .headers
        .get("fspiop-signature")
        .unwrap()
        .into_owned();
    let signature_header = SignatureHeader::parse(&header_value, &limits).unwrap();
    let raw_body = request.body.as_deref().unwrap();

    let mut group = c.benchmark_group(format!("pieces/{}", body.label));
    group.bench_function("header-lookups", |b| {
        b.iter(|| {
            HEADER_LOOKUPS
                .iter()
                .filter_map(|name| request.headers.get_present(black_box(name)))
                .count()
        })
    });
    group.bench_function("signature-header-parse", |b| {
        b.iter(|| SignatureHeader::parse(black_box(&header_value), &limits).unwrap())
    });
    group.bench_function("protected-header-decode", |b| {
        b.iter(|| ProtectedHeader::decode(black_box(&signature_header.protected_b64), &limits))
    });
    group.bench_function("signature-decode", |b| {
        b.iter(|| black_box(&signature_header).signature())
    });
    group.bench_function("raw-body-copy", |b| b.iter(|| black_box(raw_body).to_vec()));
    group.bench_function("signing-input", |b| {
        b.iter(|| {
            signing_input(
                black_box(&signature_header.protected_b64),
                black_box(raw_body),
            )
        })
    });
    // Stands in for the verdict `verify()` fills: its check list and two owned strings.
    group.bench_function("verdict-fill", |b| {
        b.iter(|| {
            let mut checks = Vec::with_capacity(16);
            for _ in 0..14 {
                checks.push(Check {
                    id: CheckId::Signature,
                    outcome: Outcome::Pass,
                });
            }
            let participant = black_box(key.participant).to_string();
            let kid = black_box(key.signing.public_key().kid()).to_owned();
            (checks, participant, kid)
        })
    });
    group.bench_function("body-parse", |b| {
        b.iter(|| body::parse_body(black_box(raw_body), limits.max_body_json_depth).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = fixtures::criterion_config();
    targets = pieces_groups
}
criterion_main!(benches);
