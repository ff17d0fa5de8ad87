//! Full `verify()` beside a bare ring verification of the same signing input.
//!
//! Each group `verify/<key>/<size>` times these functions in one run:
//! - `ring` calls ring alone, with the key and the signing input prepared outside the
//!   loop. It is the floor that any JWS verifier pays.
//! - `strict` and `mojaloop-sdk` run the whole request check under each profile: headers,
//!   key lookup, policy, signature and bindings. `mojaloop-sdk` also parses the body as JSON.
//! - `mojaloop-sdk-reserialised` gets a wire body that was pretty-printed after signing.
//!   The raw-bytes form fails and the sorted-JSON form verifies, so it pays two signature
//!   checks and a JSON re-serialisation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fspiop_guard_core::{PayloadForm, Profile, RingVerifier, VerifyContext, verify};

use fixtures::{Body, SignedCase, TestKey};

fn verify_groups(c: &mut Criterion) {
    let small = fixtures::transfer_1kb();
    let large = fixtures::bulk_transfer_100kb();
    let rsa_2048 = fixtures::rsa_2048();
    let ec_p256 = fixtures::ec_p256();
    let rsa_4096 = fixtures::rsa_4096();

    bench_verify(c, &rsa_2048, &small);
    bench_verify(c, &rsa_2048, &large);
    bench_verify(c, &ec_p256, &small);
    bench_verify(c, &ec_p256, &large);
    bench_verify(c, &rsa_4096, &small);
}

fn bench_verify(c: &mut Criterion, key: &TestKey, body: &Body) {
    let case = fixtures::sign_case(key, body);
    let reserialised = case.with_body(body.pretty());
    let strict = Profile::strict();
    let mojaloop_sdk = Profile::mojaloop_sdk();

    // Check once, before timing, that each input takes the code path it is meant to measure.
    assert!(case.raw_key.verify(&case.signing_input, &case.signature));
    assert_eq!(accepted_form(&case, &strict), PayloadForm::Raw);
    assert_eq!(accepted_form(&case, &mojaloop_sdk), PayloadForm::Raw);
    assert_eq!(
        accepted_form(&reserialised, &mojaloop_sdk),
        PayloadForm::SortedJson
    );

    let mut group = c.benchmark_group(format!("verify/{}/{}", key.label, body.label));
    group.throughput(Throughput::Elements(1));
    group.bench_function("ring", |b| {
        b.iter(|| {
            case.raw_key
                .verify(black_box(&case.signing_input), black_box(&case.signature))
        })
    });
    for (name, profile, case) in [
        ("strict", &strict, &case),
        ("mojaloop-sdk", &mojaloop_sdk, &case),
        ("mojaloop-sdk-reserialised", &mojaloop_sdk, &reserialised),
    ] {
        let ctx = context(case, profile);
        group.bench_function(name, |b| b.iter(|| verify(black_box(&case.request), &ctx)));
    }
    group.finish();
}

fn context<'a>(case: &'a SignedCase, profile: &'a Profile) -> VerifyContext<'a> {
    VerifyContext {
        profile,
        keys: &case.keys,
        rules: None,
        now: fixtures::NOW,
        crypto: &RingVerifier,
    }
}

/// Verifies once and returns the payload form that verified.
fn accepted_form(case: &SignedCase, profile: &Profile) -> PayloadForm {
    let verdict = verify(&case.request, &context(case, profile));
    assert!(
        verdict.accepted,
        "{} rejected the bench request: {:?} {:?}",
        profile.name, verdict.reason, verdict.detail
    );
    verdict.payload_form.unwrap()
}

criterion_group! {
    name = benches;
    config = fixtures::criterion_config();
    targets = verify_groups
}
criterion_main!(benches);
