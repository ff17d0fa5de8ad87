//! Behaviour tests of the host against the scripted WAT guest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

mod smoke {
    use super::common::*;
    use proxy_wasm_host::{HostConfig, StreamState};

    #[test]
    fn headers_continue_forwards_request() {
        let script = Script::default();
        script.on(Cb::RequestHeaders, |_| {
            let mut p = Program::new();
            p.log(2, "hello");
            p.ret(CONTINUE);
            Some(p)
        });
        let mut host = start(&script, HostConfig::default());
        let id = host.new_stream(0).unwrap();
        let state = host.request_headers(id, &post_headers(), true).unwrap();
        assert_eq!(state, StreamState::Forwarded);
        assert_eq!(host.logs().last().unwrap().message, "hello");
        let run = script.last_run(Cb::RequestHeaders);
        assert_eq!(run.invocation.unwrap().args[0], 5);
    }
}

mod abi;
mod body;
mod calls;
mod failure;
mod foreign;
mod headers;
mod lifecycle;
mod state;
