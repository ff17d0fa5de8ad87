//! Canonical JSON: parse a body and serialise it again, as the `mojaloop-sdk` profile does
//! for its sorted-JSON and insertion-order payload forms.
//!
//! serde_json's parse and `to_string` of the same text run beside it as a reference point.
//! serde_json cannot stand in for the crate's parser (it rejects lone surrogates and
//! `1e400`, and keeps strings as UTF-8 where JavaScript keeps UTF-16), so the ratio shows
//! what that fidelity costs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fspiop_guard_core::json::{self, KeyOrder, Limits};

use fixtures::Body;

fn canonical_groups(c: &mut Criterion) {
    bench_canonical(c, &fixtures::transfer_1kb());
    bench_canonical(c, &fixtures::bulk_transfer_100kb());
}

fn bench_canonical(c: &mut Criterion, body: &Body) {
    let limits = Limits::default();
    let text = body.text.as_str();

    // The body is already sorted and compact, so the sorted form reproduces it.
    let sorted = json::stringify(&json::parse(text, &limits).unwrap().value, KeyOrder::Sorted);
    assert_eq!(sorted, text);

    let mut group = c.benchmark_group(format!("canonical/{}", body.label));
    group.throughput(Throughput::Bytes(text.len() as u64));
    for (name, order) in [
        ("sorted", KeyOrder::Sorted),
        ("insertion", KeyOrder::Insertion),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let parsed = json::parse(black_box(text), &limits).unwrap();
                json::stringify(&parsed.value, order)
            })
        });
    }
    group.bench_function("serde_json", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_str(black_box(text)).unwrap();
            serde_json::to_string(&value).unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = fixtures::criterion_config();
    targets = canonical_groups
}
criterion_main!(benches);
